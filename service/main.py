"""``create_app(settings)``: lifespan, routers and error handlers — wiring only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from service import __version__
from service.api import chat, chatwoot, classify, diagnose, health, helpdesk, tickets, web
from service.api.deps import diagnostics_config
from service.api.errors import install_error_handlers
from service.channels.chatwoot_bot import CHATWOOT_TURN, ChatwootBot, chatwoot_api_headers
from service.channels.outbox_worker import OutboxWorker
from service.conversations import ESCALATION_EVENT, Conversations
from service.diagnostics import Diagnostician
from service.helpdesk import Helpdesk
from service.kb import load_knowledge_base
from service.nlu.classifier import Classifier
from service.ratelimit import RateLimiter
from service.settings import Settings, get_settings
from service.store import make_engine, make_session_factory, migrate
from service.tickets.desk import TicketDesk

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 30.0
ROUTERS = (
    health.router,
    classify.router,
    diagnose.router,
    chat.router,
    helpdesk.router,
    web.router,
    tickets.router,
    chatwoot.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Loading the knowledge base happens here, so a bad
    intents file fails the start, not the first chat."""
    settings = settings or get_settings()
    knowledge_base = load_knowledge_base(settings.intents_dir)
    classifier = Classifier.build(
        knowledge_base,
        threshold=settings.confidence_threshold,
        ambiguity_threshold=settings.ambiguity_threshold,
    )
    diagnostics = diagnostics_config(settings)  # a bad CIDR or resolver fails the start
    diagnose_limiter = RateLimiter.parse(settings.diagnostics_rate_limit)
    chat_limiter = RateLimiter.parse(settings.chat_rate_limit)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        diagnostician = Diagnostician(diagnostics)
        secrets = (
            {ESCALATION_EVENT: settings.escalation_webhook_secret}
            if settings.escalation_webhook_secret
            else {}
        )
        worker = OutboxWorker(
            sessions,
            signing_secrets=secrets,
            kind_headers=chatwoot_api_headers(settings.chatwoot_bot_token),
        )

        app.state.knowledge_base = knowledge_base
        app.state.classifier = classifier
        app.state.db_sessions = sessions
        app.state.diagnostician = diagnostician
        app.state.diagnose_limiter = diagnose_limiter
        app.state.chat_limiter = chat_limiter
        app.state.helpdesk = Helpdesk(sessions)
        app.state.conversations = Conversations(
            sessions=sessions,
            classifier=classifier,
            kb=knowledge_base,
            diagnostician=diagnostician if settings.diagnostics_enabled else None,
            escalation_webhook_url=settings.escalation_webhook_url,
            on_enqueue=worker.wake,
        )
        app.state.ticket_desk = TicketDesk(
            sessions=sessions,
            classifier=classifier,
            kb=knowledge_base,
            diagnostician=diagnostician if settings.diagnostics_enabled else None,
            escalation_webhook_url=settings.escalation_webhook_url,
            on_enqueue=worker.wake,
        )
        app.state.chatwoot_bot = None
        if settings.chatwoot_base_url:
            app.state.chatwoot_bot = ChatwootBot(
                sessions=sessions,
                conversations=app.state.conversations,
                kb=knowledge_base,
                base_url=settings.chatwoot_base_url,
                on_enqueue=worker.wake,
            )
            worker.register(CHATWOOT_TURN, app.state.chatwoot_bot.run_turn)
        worker_task = asyncio.create_task(worker.run(), name="outbox-worker")
        log.info("ready: %d intents, database %s", len(knowledge_base.intents), engine.url)
        try:
            yield
        finally:
            worker.stop()
            try:
                await asyncio.wait_for(worker_task, SHUTDOWN_GRACE_S)
            except TimeoutError:
                log.warning("outbox worker did not stop within %.0f s", SHUTDOWN_GRACE_S)
            await worker.aclose()
            await diagnostician.aclose()
            engine.dispose()

    app = FastAPI(title="RelayDesk", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    if settings.cors_origins:  # the widget on other sites; by default same-origin only
        app.add_middleware(CORSMiddleware, **web.cors_options(settings.cors_origins))
    for router in ROUTERS:
        app.include_router(router)
    return app
