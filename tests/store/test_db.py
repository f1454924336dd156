"""Engine set-up: driver choice for PostgreSQL URLs and SQLite's pragmas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError
from support.databases import PostgresServer

from service.store.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    make_engine,
    make_session_factory,
    normalise_url,
)
from service.store.enums import Channel
from service.store.sessions import create_session, get_session


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///./relaydesk.db", "sqlite:///./relaydesk.db"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_sqlite_connections_get_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert busy == SQLITE_BUSY_TIMEOUT_MS
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_postgres_urls_use_psycopg(postgres_server: PostgresServer) -> None:
    engine = make_engine(postgres_server.schema_url("pg_catalog"))
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_schema()")).scalar() == "pg_catalog"
    finally:
        engine.dispose()


def test_timestamps_come_back_aware_utc(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    plus_two = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    with sessions.begin() as s:
        convo = create_session(session=s, channel=Channel.CHAT, now=plus_two)
    with sessions() as s:
        got = get_session(session=s, session_id=convo.id)
    assert got is not None and got.created_at == plus_two and got.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    with sessions() as s, pytest.raises(StatementError, match="naive datetime"):
        create_session(session=s, channel=Channel.CHAT, now=datetime(2026, 3, 1))
