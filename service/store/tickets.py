"""Exactly-once ticket auto-replies.

The first delivery of a ticket wins a claim (an INSERT on the ``ticket_id``
primary key; the others' inserts do nothing), does the work and stores the
response; every other delivery, concurrent or later, reads that response::

    with sessions.begin() as s:                        # commit the claim at once
        claim = claim_ticket(session=s, ticket_id="T-1", fingerprint=fingerprint(body))
    if claim.won:
        response = build_reply(...)
        with sessions.begin() as s:
            store_ticket_result(session=s, ticket_id="T-1", response=response)
    elif claim.record.response is None:
        record = wait_for_ticket(sessions=sessions, ticket_id="T-1")   # polls

A winner that fails should ``release_ticket`` so a redelivery can try again;
a winner that died is replaced once its claim is older than ``stale_after``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.errors import Conflict, NotFound
from service.store.db import insert_ignoring_conflict, rowcount, utcnow
from service.store.tables import Ticket


@dataclass(frozen=True, slots=True)
class TicketRecord:
    ticket_id: str
    fingerprint: str
    response: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TicketClaim:
    won: bool
    record: TicketRecord


def fingerprint(request: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a request (sorted keys, no spaces)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def get_ticket(*, session: Session, ticket_id: str) -> TicketRecord | None:
    """The ticket's claim and (once done) its response, or None."""
    query = select(Ticket).where(Ticket.ticket_id == ticket_id)
    row = session.execute(query.execution_options(populate_existing=True)).scalar()
    if row is None:
        return None
    return TicketRecord(
        row.ticket_id, row.fingerprint, row.response, row.created_at, row.completed_at
    )


def claim_ticket(
    *,
    session: Session,
    ticket_id: str,
    fingerprint: str,
    stale_after: timedelta | None = None,
    now: datetime | None = None,
) -> TicketClaim:
    """Claim ``ticket_id``; exactly one of many concurrent callers wins.

    Commit right after a won claim: on PostgreSQL the others wait on the
    uncommitted row. ``Conflict`` when the ticket was seen with a different
    request fingerprint.
    """
    now = now or utcnow()
    values = {"ticket_id": ticket_id, "fingerprint": fingerprint, "created_at": now}
    won = insert_ignoring_conflict(session, Ticket, values)
    record = get_ticket(session=session, ticket_id=ticket_id)
    if record is None:  # released between our insert and read: let the caller retry
        raise Conflict(f"ticket {ticket_id} is being processed; retry")
    if record.fingerprint != fingerprint:
        raise Conflict(f"ticket {ticket_id} was already received with different content")
    if not won and record.response is None and stale_after is not None:
        won = _take_over(session, record, now - stale_after, now)
        record = get_ticket(session=session, ticket_id=ticket_id) or record
    return TicketClaim(won=won, record=record)


def _take_over(session: Session, record: TicketRecord, cutoff: datetime, now: datetime) -> bool:
    if record.created_at >= cutoff:
        return False
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.ticket_id == record.ticket_id,
            Ticket.response.is_(None),
            Ticket.created_at == record.created_at,
        )
        .values(created_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def store_ticket_result(
    *, session: Session, ticket_id: str, response: dict[str, Any], now: datetime | None = None
) -> TicketRecord:
    """Store the winner's response; storing the same response again is a no-op."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.ticket_id == ticket_id, Ticket.response.is_(None))
        .values(response=response, completed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    record = get_ticket(session=session, ticket_id=ticket_id)
    if record is None:
        raise NotFound(f"ticket {ticket_id} was never claimed")
    if rowcount(result) != 1 and record.response != response:
        raise Conflict(f"ticket {ticket_id} already has a different result")
    return record


def release_ticket(*, session: Session, ticket_id: str) -> bool:
    """Drop an unfinished claim (the winner failed); True when one was dropped."""
    result = session.execute(
        delete(Ticket).where(Ticket.ticket_id == ticket_id, Ticket.response.is_(None))
    )
    return rowcount(result) == 1


def wait_for_ticket(
    *,
    sessions: sessionmaker[Session],
    ticket_id: str,
    timeout_s: float = 15.0,
    poll_s: float = 0.05,
) -> TicketRecord | None:
    """Poll until the winner stored its response; blocking (run it in a thread).

    None when the claim was released (claim again); ``Conflict`` on timeout.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with sessions() as session:
            record = get_ticket(session=session, ticket_id=ticket_id)
        if record is None or record.response is not None:
            return record
        if time.monotonic() >= deadline:
            raise Conflict(f"ticket {ticket_id} is still being processed; retry later")
        time.sleep(poll_s)
