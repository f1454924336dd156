"""``create_app(settings)``: lifespan, routers and error handlers — wiring only."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import __version__
from service.api import classify, health
from service.api.errors import install_error_handlers
from service.kb import load_knowledge_base
from service.nlu.classifier import Classifier
from service.settings import Settings, get_settings

log = logging.getLogger(__name__)


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.knowledge_base = knowledge_base
        app.state.classifier = classifier
        log.info("knowledge base loaded: %d intents", len(knowledge_base.intents))
        yield

    app = FastAPI(title="RelayDesk", version=__version__, lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(classify.router)
    # routers: add new channel routers above this line
    return app
