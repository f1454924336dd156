"""Migrations apply to an empty database, are idempotent, and match the models."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from service.store.db import (
    alembic_config,
    current_revision,
    make_engine,
    make_session_factory,
    migrate,
)
from service.store.enums import Channel
from service.store.escalations import create_escalation, get_escalation
from service.store.sessions import create_session, get_session
from service.store.tables import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {
    "conversations",
    "messages",
    "escalations",
    "counters",
    "feedback",
    "tickets",
    "webhook_deliveries",
    "outbox",
}


def test_empty_database_migrates_to_head(database_url: str) -> None:
    assert current_revision(database_url) is None
    migrate(database_url)
    assert current_revision(database_url) == HEAD
    engine = make_engine(database_url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_match_migrations(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_restart_keeps_data_and_migrating_again_is_a_no_op(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        convo = create_session(session=session, channel=Channel.CHAT, state={"rung": 2})
        escalation = create_escalation(
            session=session, session_id=convo.id, channel=Channel.CHAT, reason="handoff"
        )
    engine.dispose()

    migrate(database_url)  # the next start-up
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            again = get_session(session=session, session_id=convo.id)
            assert again is not None and again.state == {"rung": 2}
            kept = get_escalation(session=session, escalation_id=escalation.id)
            assert kept is not None and kept.reference == "RD-000001"
    finally:
        engine.dispose()
    assert current_revision(database_url) == HEAD


def test_concurrent_start_ups_migrate_once(database_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            migrate(database_url)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert current_revision(database_url) == HEAD
