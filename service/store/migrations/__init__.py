"""Alembic migrations of the store; applied by ``service.store.db.migrate``."""
