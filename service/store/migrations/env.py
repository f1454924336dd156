"""Alembic environment, configured in code by ``service.store.db.migrate``.

``migrate()`` hands over an open connection in ``config.attributes["connection"]``.
For developer use (``alembic revision --autogenerate``) a URL may come from the
``RELAYDESK_DATABASE_URL`` environment variable instead.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from service.store.db import make_engine
from service.store.tables import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("RELAYDESK_DATABASE_URL", "sqlite:///./relaydesk.db")
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as fresh:
            _run(fresh)
            fresh.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
