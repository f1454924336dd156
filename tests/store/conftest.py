"""The store tests run against SQLite and PostgreSQL (see support/databases.py)."""

from support.databases import (  # noqa: F401
    database_url,
    db_engine,
    db_sessions,
    migrated_url,
    postgres_server,
)
