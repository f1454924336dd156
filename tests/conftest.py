"""Fixtures shared by the whole suite: the knowledge base, the classifier, the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.databases import (  # noqa: E402, F401 - fixtures for every test package
    database_url,
    db_engine,
    db_sessions,
    migrated_url,
    postgres_server,
)
from support.fixtures import lab, lab_trust  # noqa: E402, F401 - one DNS/SMTP lab per session

from service.kb import KnowledgeBase, load_knowledge_base
from service.main import create_app
from service.nlu.classifier import Classifier
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
INTENTS = ROOT / "intents"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything that uses the loopback lab needs nsd and unbound: mark it ``dns``."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dns)


@pytest.fixture(scope="session")
def knowledge_base() -> KnowledgeBase:
    return load_knowledge_base(INTENTS)


@pytest.fixture(scope="session")
def classifier(knowledge_base: KnowledgeBase) -> Classifier:
    return Classifier.build(knowledge_base)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an app under test: its own SQLite file, diagnostics off."""
    return Settings(
        intents_dir=INTENTS,
        database_url=f"sqlite:///{tmp_path / 'relaydesk.db'}",
        diagnostics_enabled=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real ASGI app, lifespan included."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
