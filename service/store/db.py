"""Engines, sessions and migrations.

::

    migrate("sqlite:///./relaydesk.db")          # once at start-up; idempotent
    engine = make_engine("sqlite:///./relaydesk.db")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:            # one transaction, committed on exit
        create_session(session=session, channel=Channel.CHAT)
    engine.dispose()

SQLite gets WAL mode, ``busy_timeout`` and foreign keys on every connection.
Python's sqlite3 module begins a (deferred) transaction only at the first
INSERT/UPDATE/DELETE, so a writer takes the write lock at its first write and
waits ``busy_timeout`` for it instead of failing on a stale read snapshot;
the repository functions rely on that and keep every race-prone step to a
single conditional statement.

PostgreSQL URLs (``postgresql://`` or ``postgres://``) are given the psycopg 3
driver. A ``?options=-csearch_path%3D<schema>`` query selects a schema.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, Result, event, inspect, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from service.store.tables import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Arbitrary constant: the PostgreSQL advisory lock serialising migrations.
MIGRATION_LOCK_ID = 0x52444D47


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new uuid4 hex id."""
    return uuid.uuid4().hex


def normalise_url(database_url: str) -> str:
    """Give bare PostgreSQL URLs the psycopg 3 driver.

    >>> normalise_url("postgres://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def make_engine(database_url: str, *, pooled: bool = True, echo: bool = False) -> Engine:
    """An engine for ``database_url`` with the per-connection settings applied."""
    url = make_url(normalise_url(database_url))
    kwargs: dict[str, Any] = {"echo": echo}
    if not pooled:
        kwargs["poolclass"] = NullPool
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = sa_create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        _serialise_transactions(engine)
        return engine
    return sa_create_engine(url, pool_pre_ping=True, **kwargs)


def _serialise_transactions(engine: Engine) -> None:
    """One transaction at a time per engine (SQLite has a single writer anyway).

    Without this, concurrent writers in one process meet SQLite's busy handler,
    which sleeps in growing steps (up to 100 ms) while it retries the lock; a
    lock handed over in-process costs microseconds. Other processes still meet
    ``busy_timeout``.
    """
    lock = threading.RLock()

    def acquire(_connection: Any) -> None:
        lock.acquire()

    def release(_connection: Any) -> None:
        lock.release()

    event.listen(engine, "begin", acquire)
    event.listen(engine, "commit", release)
    event.listen(engine, "rollback", release)


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (a no-op once it is), riding out concurrent first opens.

    The switch needs an exclusive lock and SQLite reports a conflict at once
    instead of waiting ``busy_timeout``, so two processes creating one database
    file can collide here; the mode persists in the file, so a retry succeeds.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        _enable_wal(cursor)
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose loaded objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def is_postgres(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE/DELETE/INSERT result."""
    return cast(CursorResult[Any], result).rowcount


def insert_ignoring_conflict(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``; True when the row went in.

    Atomic on both backends: of many concurrent inserts of one key exactly one
    returns True, and nobody's transaction is aborted by a unique violation.
    """
    insert = pg_insert if is_postgres(session) else sqlite_insert
    key = inspect(model).primary_key
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT.
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(*key)
    return session.execute(statement).first() is not None


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(database_url: str, *, revision: str = "head") -> None:
    """Bring the database to ``revision``; safe to call at every start-up.

    Concurrent starters are serialised: an advisory lock on PostgreSQL, an
    immediate (write-locking) transaction around the whole upgrade on SQLite.
    """
    engine = make_engine(database_url, pooled=False)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url, pooled=False)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
