"""Webhook deliveries already processed, for de-duplication (Chatwoot)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.store.db import insert_ignoring_conflict, rowcount, utcnow
from service.store.tables import WebhookDelivery


def mark_delivery_seen(*, session: Session, key: str, now: datetime | None = None) -> bool:
    """Record ``key`` (a delivery or message id); False when it was already seen.

    Atomic: of concurrent callers with one key exactly one gets True, once the
    transaction commits.
    """
    return insert_ignoring_conflict(
        session, WebhookDelivery, {"key": key, "created_at": now or utcnow()}
    )


def purge_deliveries_older_than(*, session: Session, days: int, now: datetime | None = None) -> int:
    """Forget deliveries seen more than ``days`` ago; return how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return rowcount(
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff))
    )
