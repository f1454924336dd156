"""Outbox worker tests need the database fixtures (see support/databases.py)."""

from support.databases import (  # noqa: F401
    database_url,
    db_engine,
    db_sessions,
    migrated_url,
    postgres_server,
)
