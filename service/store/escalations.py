"""Escalations: hand-off packets for human agents.

Each gets a uuid ``id`` and a monotonically increasing ``number``, shown to
people as ``RD-000123``. Claims are atomic: a single conditional UPDATE, so of
many concurrent claimers exactly one wins::

    claim_escalation(session=s, escalation_id=eid, agent="ana")   # wins
    claim_escalation(session=s, escalation_id=eid, agent="ana")   # same agent: no-op
    claim_escalation(session=s, escalation_id=eid, agent="bo")    # Conflict
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from service.errors import Conflict, InvalidInput, NotFound
from service.store.db import new_id, rowcount, utcnow
from service.store.enums import Channel, EscalationStatus
from service.store.tables import Counter, Escalation

MAX_PAGE = 200
COUNTER = "escalation"


def reference(number: int) -> str:
    """The human reference of escalation ``number``: ``reference(123) == "RD-000123"``."""
    return f"RD-{number:06d}"


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    id: str
    number: int
    session_id: str | None
    status: EscalationStatus
    reason: str
    intent: str | None
    confidence: float | None
    entities: dict[str, Any]
    transcript: list[Any]
    diagnostics: dict[str, Any] | None
    steps_tried: list[Any]
    channel: Channel
    created_at: datetime
    updated_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    resolution_note: str | None

    @property
    def reference(self) -> str:
        return reference(self.number)


@dataclass(frozen=True, slots=True)
class EscalationPage:
    items: list[EscalationRecord]
    next_cursor: str | None


def _record(row: Escalation) -> EscalationRecord:
    return EscalationRecord(
        id=row.id,
        number=row.number,
        session_id=row.session_id,
        status=EscalationStatus(row.status),
        reason=row.reason,
        intent=row.intent,
        confidence=row.confidence,
        entities=row.entities,
        transcript=row.transcript,
        diagnostics=row.diagnostics,
        steps_tried=row.steps_tried,
        channel=Channel(row.channel),
        created_at=row.created_at,
        updated_at=row.updated_at,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        resolved_at=row.resolved_at,
        resolution_note=row.resolution_note,
    )


def _next_number(session: Session) -> int:
    # The UPDATE row-locks the counter until commit, so numbers follow commit order.
    session.execute(update(Counter).where(Counter.name == COUNTER).values(value=Counter.value + 1))
    return session.execute(select(Counter.value).where(Counter.name == COUNTER)).scalar_one()


def create_escalation(
    *,
    session: Session,
    session_id: str | None,
    channel: Channel,
    reason: str,
    intent: str | None = None,
    confidence: float | None = None,
    entities: dict[str, Any] | None = None,
    transcript: list[Any] | None = None,
    diagnostics: dict[str, Any] | None = None,
    steps_tried: list[Any] | None = None,
    now: datetime | None = None,
) -> EscalationRecord:
    """A new open escalation with the next number. Keep the transaction short:
    the number counter stays locked until it commits."""
    now = now or utcnow()
    row = Escalation(
        id=new_id(),
        number=_next_number(session),
        session_id=session_id,
        status=EscalationStatus.OPEN,
        reason=reason,
        intent=intent,
        confidence=confidence,
        entities=entities or {},
        transcript=transcript or [],
        diagnostics=diagnostics,
        steps_tried=steps_tried or [],
        channel=channel,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _record(row)


def get_escalation(*, session: Session, escalation_id: str) -> EscalationRecord | None:
    """The escalation, or None."""
    row = session.execute(select(Escalation).where(Escalation.id == escalation_id)).scalar()
    return _record(row) if row else None


def list_escalations(
    *,
    session: Session,
    status: EscalationStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> EscalationPage:
    """Escalations newest first, ``limit`` (1..200) at a time.

    Pass the page's ``next_cursor`` back as ``cursor`` for the next page; it
    is None on the last page. A malformed cursor raises ``InvalidInput``.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    query = select(Escalation)
    if status is not None:
        query = query.where(Escalation.status == status)
    if cursor is not None:
        created_at, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Escalation.created_at < created_at,
                and_(Escalation.created_at == created_at, Escalation.id < last_id),
            )
        )
    query = query.order_by(Escalation.created_at.desc(), Escalation.id.desc()).limit(limit + 1)
    rows = list(session.execute(query).scalars())
    items = [_record(row) for row in rows[:limit]]
    more = len(rows) > limit
    return EscalationPage(
        items=items,
        next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None,
    )


def encode_cursor(created_at: datetime, escalation_id: str) -> str:
    """An opaque cursor for the position just after ``(created_at, id)``."""
    raw = json.dumps([created_at.isoformat(), escalation_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(created_at, id)`` in ``cursor``; ``InvalidInput`` when malformed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, escalation_id = json.loads(raw)
        created_at = datetime.fromisoformat(stamp)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor") from exc
    if created_at.tzinfo is None or not isinstance(escalation_id, str):
        raise InvalidInput("invalid cursor")
    return created_at, escalation_id


def claim_escalation(
    *, session: Session, escalation_id: str, agent: str, now: datetime | None = None
) -> EscalationRecord:
    """Claim an open escalation for ``agent``.

    Idempotent for the agent who holds it; ``Conflict`` when another agent
    holds it or it is resolved; ``NotFound`` when it does not exist.
    """
    now = now or utcnow()
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == EscalationStatus.OPEN)
        .values(status=EscalationStatus.CLAIMED, claimed_by=agent, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    current = _get_fresh(session, escalation_id)
    if rowcount(result) == 1:
        return current
    if current.status is EscalationStatus.CLAIMED and current.claimed_by == agent:
        return current
    if current.status is EscalationStatus.RESOLVED:
        raise Conflict(f"escalation {current.reference} is already resolved")
    raise Conflict(f"escalation {current.reference} is claimed by {current.claimed_by}")


def resolve_escalation(
    *,
    session: Session,
    escalation_id: str,
    note: str | None,
    agent: str | None = None,
    now: datetime | None = None,
) -> EscalationRecord:
    """Mark an open or claimed escalation resolved with ``note``.

    Repeating the same resolution is a no-op; resolving again with a different
    note raises ``Conflict``. ``agent`` (optional) is recorded as claimer when
    nobody had claimed it.
    """
    now = now or utcnow()
    values: dict[str, Any] = {
        "status": EscalationStatus.RESOLVED,
        "resolution_note": note,
        "resolved_at": now,
        "updated_at": now,
    }
    unresolved = Escalation.status != EscalationStatus.RESOLVED
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, unresolved)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if agent is not None and rowcount(result) == 1:
        session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.claimed_by.is_(None))
            .values(claimed_by=agent, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    current = _get_fresh(session, escalation_id)
    if rowcount(result) == 1 or current.resolution_note == note:
        return current
    raise Conflict(f"escalation {current.reference} is already resolved")


def _get_fresh(session: Session, escalation_id: str) -> EscalationRecord:
    row = session.execute(
        select(Escalation)
        .where(Escalation.id == escalation_id)
        .execution_options(populate_existing=True)
    ).scalar()
    if row is None:
        raise NotFound(f"escalation {escalation_id} not found")
    return _record(row)
