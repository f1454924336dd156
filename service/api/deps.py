"""Dependencies as ``Annotated`` aliases; long-lived objects live on ``app.state``.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a
worker thread, and that hop costs more than everything these functions do.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from service.conversations import Conversations
from service.diagnostics import Diagnostician, DiagnosticsConfig
from service.errors import Forbidden, NotAuthenticated
from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.ratelimit import RateLimiter
from service.settings import Settings


async def app_settings(request: Request) -> Settings:
    """The settings the app was built with. (Not ``dependency_overrides``: with any
    override set, FastAPI re-inspects every dependency's signature on every request.)"""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_classifier(request: Request) -> Classifier:
    classifier: Classifier = request.app.state.classifier
    return classifier


async def get_knowledge_base(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase = request.app.state.knowledge_base
    return kb


ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]


async def client_address(request: Request) -> str:
    """The caller's address, the key for per-client rate limits."""
    return request.client.host if request.client else "unknown"


ClientAddressDep = Annotated[str, Depends(client_address)]


def diagnostics_config(settings: Settings) -> DiagnosticsConfig:
    """The diagnostics' plain configuration; checks never see ``Settings``."""
    return DiagnosticsConfig.build(
        provider_nameserver_domains=settings.provider_nameserver_domains,
        provider_mail_hosts=settings.provider_mail_hosts,
        provider_mail_networks=settings.provider_mail_networks,
        resolvers=settings.dns_resolvers,
        allowed_networks=settings.diagnostics_allowed_networks,
        smtp_ports=settings.smtp_ports(),
        authoritative_port=settings.dns_authoritative_port,
        helo_name=settings.smtp_helo_name,
        budget_s=settings.diagnostics_budget_s,
        cache_ttl_s=settings.diagnostics_cache_ttl_s,
        enabled=settings.diagnostics_enabled,
    )


async def get_diagnostician(request: Request) -> Diagnostician:
    diagnostician: Diagnostician = request.app.state.diagnostician
    return diagnostician


async def get_diagnose_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.diagnose_limiter
    return limiter


DiagnosticianDep = Annotated[Diagnostician, Depends(get_diagnostician)]
DiagnoseLimiterDep = Annotated[RateLimiter, Depends(get_diagnose_limiter)]


async def get_conversations(request: Request) -> Conversations:
    conversations: Conversations = request.app.state.conversations
    return conversations


async def get_db_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.db_sessions
    return sessions


async def get_chat_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.chat_limiter
    return limiter


ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
DbSessionsDep = Annotated[sessionmaker[Session], Depends(get_db_sessions)]
ChatLimiterDep = Annotated[RateLimiter, Depends(get_chat_limiter)]


async def require_api_key(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The helpdesk's key from ``Authorization: Bearer <key>``: 401 without, 403 if wrong."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthenticated("send 'Authorization: Bearer <api key>'")
    presented = key.strip().encode()
    if not any(hmac.compare_digest(presented, known.encode()) for known in settings.api_keys):
        raise Forbidden("this API key is not valid")
    return key.strip()


ApiKeyDep = Annotated[str, Depends(require_api_key)]
