"""Database fixtures: every test that asks for ``database_url`` runs twice.

- ``sqlite``: a fresh file in the test's ``tmp_path``;
- ``postgresql``: a fresh schema in the machine's PostgreSQL (127.0.0.1:5432,
  database ``test``, trust auth as ``postgres`` or ``root``), selected through
  the URL's ``search_path``, dropped after the test. Leftover schemas of this
  test session are dropped at its end.

PostgreSQL is skipped only when it cannot be reached, with the reason in the
``-ra`` summary; set ``RELAYDESK_REQUIRE_POSTGRES=1`` (CI) to fail instead.
``RELAYDESK_TEST_POSTGRES_URL`` points at another server.

Use it from a conftest.py::

    from support.databases import database_url, db_sessions  # noqa: F401
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service.store.db import make_engine, make_session_factory, migrate

CANDIDATE_URLS = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)
SESSION_TAG = uuid.uuid4().hex[:8]
_schema_numbers = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    """A reachable server: the psycopg conninfo and the SQLAlchemy base URL."""

    conninfo: str
    url: str

    def schema_url(self, schema: str) -> str:
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(sql)  # type: ignore[arg-type]


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _find_postgres() -> PostgresServer | str:
    """The first reachable candidate, or why none was."""
    override = os.environ.get("RELAYDESK_TEST_POSTGRES_URL")
    errors = []
    for url in (override,) if override else CANDIDATE_URLS:
        conninfo = _conninfo(url)
        try:
            with psycopg.connect(conninfo, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            errors.append(f"{make_url(url).render_as_string()}: {' '.join(str(exc).split())}")
            continue
        return PostgresServer(conninfo=conninfo, url=url)
    return "; ".join(errors)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The machine's PostgreSQL; skips (loudly) or fails when it is unreachable."""
    found = _find_postgres()
    if isinstance(found, str):
        message = (
            f"POSTGRESQL UNREACHABLE — the PostgreSQL half of the database tests did NOT run: "
            f"{found}"
        )
        if os.environ.get("RELAYDESK_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    yield found
    _drop_session_schemas(found)


def _drop_session_schemas(server: PostgresServer) -> None:
    with psycopg.connect(server.conninfo, autocommit=True, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"rd_test_{SESSION_TAG}_%",),
        ).fetchall()
    for (schema,) in rows:
        server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty (unmigrated) database: SQLite file or PostgreSQL schema."""
    if request.param == "sqlite":
        directory = tmp_path_factory.mktemp("sqlite")
        yield f"sqlite:///{directory / 'relaydesk.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    schema = f"rd_test_{SESSION_TAG}_{next(_schema_numbers)}"
    server.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield server.schema_url(schema)
    finally:
        server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """``database_url`` with the migrations applied."""
    migrate(database_url)
    return database_url


@pytest.fixture
def db_engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on the migrated database, disposed after the test."""
    engine = make_engine(migrated_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db_sessions(db_engine: Engine) -> sessionmaker[Session]:
    """The session factory repository code expects."""
    return make_session_factory(db_engine)
