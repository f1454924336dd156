"""Dependencies as ``Annotated`` aliases; long-lived objects live on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_classifier(request: Request) -> Classifier:
    classifier: Classifier = request.app.state.classifier
    return classifier


def get_knowledge_base(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase = request.app.state.knowledge_base
    return kb


ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]


def client_address(request: Request) -> str:
    """The caller's address, the key for per-client rate limits."""
    return request.client.host if request.client else "unknown"


ClientAddressDep = Annotated[str, Depends(client_address)]
