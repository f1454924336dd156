"""A durable outbox of outbound HTTP requests.

A request is written in the same transaction as the change it announces
(``enqueue``), so it is never lost; the outbox worker
(``service.channels.outbox_worker``) delivers it later. Life of a row::

    pending --claim_due--> sending --mark_sent--> sent
       ^                      |
       +----mark_failed-------+--mark_failed(retry_at=None)--> dead

``claim_due`` leases a row: ``next_attempt_at`` becomes the lease's end, so a
row whose worker died while ``sending`` is claimed again once the lease runs
out. ``attempts`` counts claims and doubles as a fencing token: ``mark_*``
only succeed for the attempt that is current, so a late worker cannot
overwrite a newer attempt's outcome.

Ordering is opt-in: a row enqueued with ``after=<id>`` is not due until that
row is sent (or dead — a hand-off must not hang on a failed note)::

    note = enqueue(session=s, kind="chatwoot.note", target_url=..., body=...)
    enqueue(session=s, kind="chatwoot.toggle", target_url=..., body=..., after=note.id)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from service.store.db import is_postgres, new_id, rowcount, utcnow
from service.store.enums import OutboxStatus
from service.store.tables import OutboxMessage

DEFAULT_LEASE = timedelta(seconds=60)
_IN_FLIGHT = (OutboxStatus.PENDING, OutboxStatus.SENDING)
_FINISHED = (OutboxStatus.SENT, OutboxStatus.DEAD)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: str
    kind: str
    target_url: str
    headers: dict[str, str]
    body: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    after_id: str | None = None


def _record(row: OutboxMessage) -> OutboxRecord:
    return OutboxRecord(
        id=row.id,
        kind=row.kind,
        target_url=row.target_url,
        headers=dict(row.headers),
        body=row.body,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        after_id=row.after_id,
    )


def enqueue(
    *,
    session: Session,
    kind: str,
    target_url: str,
    body: str,
    headers: dict[str, str] | None = None,
    not_before: datetime | None = None,
    after: str | None = None,
    now: datetime | None = None,
) -> OutboxRecord:
    """Add a pending request (``body`` is sent as-is, JSON unless headers say otherwise);
    with ``after``, only once the row with that id is sent or dead."""
    now = now or utcnow()
    row = OutboxMessage(
        id=new_id(),
        kind=kind,
        target_url=target_url,
        headers=headers or {},
        body=body,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=not_before or now,
        created_at=now,
        after_id=after,
    )
    session.add(row)
    session.flush()
    return _record(row)


def get_outbox(*, session: Session, outbox_id: str) -> OutboxRecord | None:
    """One outbox row, or None."""
    query = select(OutboxMessage).where(OutboxMessage.id == outbox_id)
    row = session.execute(query.execution_options(populate_existing=True)).scalar()
    return _record(row) if row else None


def list_outbox(
    *, session: Session, status: OutboxStatus | None = None, kind: str | None = None
) -> list[OutboxRecord]:
    """Outbox rows, oldest first, optionally of one status and kind."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    rows = session.execute(query.execution_options(populate_existing=True)).scalars()
    return [_record(row) for row in rows]


def claim_due(
    *,
    session: Session,
    limit: int = 10,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int | None = None,
    now: datetime | None = None,
) -> list[OutboxRecord]:
    """Lease up to ``limit`` due rows for delivery; commit right after.

    Due: pending with ``next_attempt_at <= now`` (and its ``after`` row
    finished), or sending with an expired lease. Two processes never get the
    same row: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a compare-and-set
    UPDATE per row on SQLite. Expired leases already at ``max_attempts`` are
    marked dead instead.
    """
    now = now or utcnow()
    if max_attempts is not None:
        _bury_exhausted(session, max_attempts, now)
    before = aliased(OutboxMessage)
    predecessor_done = exists().where(
        before.id == OutboxMessage.after_id, before.status.in_(_FINISHED)
    )
    due = (
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)
        .where(
            OutboxMessage.status.in_(_IN_FLIGHT),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.after_id.is_(None), predecessor_done),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    claimed = []
    for outbox_id, status, attempts in session.execute(due).all():
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                OutboxMessage.status == status,
                OutboxMessage.attempts == attempts,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(status=OutboxStatus.SENDING, attempts=attempts + 1, next_attempt_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            claimed.append(outbox_id)
    return [record for i in claimed if (record := get_outbox(session=session, outbox_id=i))]


def _bury_exhausted(session: Session, max_attempts: int, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.attempts >= max_attempts,
        )
        .values(status=OutboxStatus.DEAD, last_error="lease expired on the last attempt")
        .execution_options(synchronize_session=False)
    )


def mark_sent(
    *, session: Session, outbox_id: str, attempt: int, now: datetime | None = None
) -> bool:
    """Record a delivery; False when ``attempt`` is no longer the current one."""
    return _finish(
        session,
        outbox_id,
        attempt,
        status=OutboxStatus.SENT,
        sent_at=now or utcnow(),
        last_error=None,
    )


def mark_failed(
    *, session: Session, outbox_id: str, attempt: int, error: str, retry_at: datetime | None
) -> bool:
    """Record a failed attempt: retry at ``retry_at``, or dead when it is None."""
    if retry_at is None:
        return _finish(session, outbox_id, attempt, status=OutboxStatus.DEAD, last_error=error)
    return _finish(
        session,
        outbox_id,
        attempt,
        status=OutboxStatus.PENDING,
        next_attempt_at=retry_at,
        last_error=error,
    )


def _finish(session: Session, outbox_id: str, attempt: int, **values: object) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.attempts == attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
