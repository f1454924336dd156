"""Exactly-once ticket claims and webhook delivery de-duplication."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.errors import Conflict, NotFound
from service.store.db import utcnow
from service.store.deliveries import mark_delivery_seen, purge_deliveries_older_than
from service.store.enums import Channel, EscalationStatus
from service.store.escalations import create_escalation, list_escalations
from service.store.tickets import (
    claim_ticket,
    fingerprint,
    get_ticket,
    release_ticket,
    store_ticket_result,
    wait_for_ticket,
)

Sessions = sessionmaker[Session]
REQUEST = {"ticket_id": "T-1001", "subject": "550 relay", "body": "help", "domain": None}
PRINT = fingerprint(REQUEST)


def test_fingerprint_is_canonical() -> None:
    reordered = dict(reversed(list(REQUEST.items())))
    assert fingerprint(reordered) == PRINT and len(PRINT) == 64
    assert fingerprint({**REQUEST, "body": "other"}) != PRINT


def test_claim_store_and_replay(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        first = claim_ticket(session=s, ticket_id="T-1001", fingerprint=PRINT)
    assert first.won and first.record.response is None
    with db_sessions.begin() as s:
        second = claim_ticket(session=s, ticket_id="T-1001", fingerprint=PRINT)
    assert not second.won and second.record.response is None
    with db_sessions.begin() as s:
        stored = store_ticket_result(session=s, ticket_id="T-1001", response={"action": "reply"})
    assert stored.response == {"action": "reply"} and stored.completed_at is not None
    with db_sessions.begin() as s:
        replay = claim_ticket(session=s, ticket_id="T-1001", fingerprint=PRINT)
        assert (
            store_ticket_result(session=s, ticket_id="T-1001", response={"action": "reply"})
            == stored
        )
        with pytest.raises(Conflict):
            store_ticket_result(session=s, ticket_id="T-1001", response={"action": "escalate"})
    assert not replay.won and replay.record.response == {"action": "reply"}


def test_same_ticket_with_different_content_conflicts(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        claim_ticket(session=s, ticket_id="T-1", fingerprint=PRINT)
    with db_sessions.begin() as s, pytest.raises(Conflict, match="different content"):
        claim_ticket(session=s, ticket_id="T-1", fingerprint="0" * 64)


def test_store_without_claim_is_not_found(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s, pytest.raises(NotFound):
        store_ticket_result(session=s, ticket_id="T-404", response={})


def test_release_lets_a_redelivery_win(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        assert claim_ticket(session=s, ticket_id="T-2", fingerprint=PRINT).won
    with db_sessions.begin() as s:
        assert release_ticket(session=s, ticket_id="T-2")
        assert not release_ticket(session=s, ticket_id="T-2")
    with db_sessions.begin() as s:
        assert claim_ticket(session=s, ticket_id="T-2", fingerprint=PRINT).won
    assert wait_for_ticket(sessions=db_sessions, ticket_id="T-404", timeout_s=0.1) is None


def test_a_dead_winners_claim_is_taken_over_when_stale(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        claim_ticket(
            session=s, ticket_id="T-3", fingerprint=PRINT, now=utcnow() - timedelta(minutes=5)
        )
    with db_sessions.begin() as s:
        fresh = claim_ticket(
            session=s, ticket_id="T-3", fingerprint=PRINT, stale_after=timedelta(minutes=10)
        )
        assert not fresh.won
        taken = claim_ticket(
            session=s, ticket_id="T-3", fingerprint=PRINT, stale_after=timedelta(minutes=1)
        )
    assert taken.won
    with db_sessions.begin() as s:
        again = claim_ticket(
            session=s, ticket_id="T-3", fingerprint=PRINT, stale_after=timedelta(minutes=1)
        )
    assert not again.won


def test_waiting_times_out_with_conflict(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        claim_ticket(session=s, ticket_id="T-4", fingerprint=PRINT)
    with pytest.raises(Conflict, match="still being processed"):
        wait_for_ticket(sessions=db_sessions, ticket_id="T-4", timeout_s=0.2, poll_s=0.05)


def test_twenty_concurrent_deliveries_produce_one_result(db_sessions: Sessions) -> None:
    barrier = threading.Barrier(20)
    results: list[dict[str, object] | None] = []
    winners: list[int] = []
    errors: list[BaseException] = []

    def deliver(n: int) -> None:
        try:
            barrier.wait()
            with db_sessions.begin() as s:
                claim = claim_ticket(session=s, ticket_id="T-1001", fingerprint=PRINT)
            if claim.won:
                winners.append(n)
                time.sleep(0.2)  # classification and diagnostics
                with db_sessions.begin() as s:
                    escalation = create_escalation(
                        session=s, session_id=None, channel=Channel.TICKET, reason="low_confidence"
                    )
                    response = {"action": "escalate", "escalation": escalation.reference}
                    store_ticket_result(session=s, ticket_id="T-1001", response=response)
                results.append(response)
            elif claim.record.response is not None:
                results.append(claim.record.response)
            else:
                record = wait_for_ticket(sessions=db_sessions, ticket_id="T-1001")
                results.append(record.response if record else None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) == 1
    assert results == [{"action": "escalate", "escalation": "RD-000001"}] * 20
    with db_sessions() as s:
        page = list_escalations(session=s, status=EscalationStatus.OPEN)
        ticket = get_ticket(session=s, ticket_id="T-1001")
    assert len(page.items) == 1
    assert ticket is not None and ticket.response == results[0]


def test_delivery_dedup(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        assert mark_delivery_seen(session=s, key="delivery:abc")
        assert not mark_delivery_seen(session=s, key="delivery:abc")
        assert mark_delivery_seen(session=s, key="message:17")
    with db_sessions.begin() as s:
        assert not mark_delivery_seen(session=s, key="message:17")


def test_concurrent_duplicate_deliveries_are_seen_once(db_sessions: Sessions) -> None:
    barrier = threading.Barrier(10)
    fresh: list[bool] = []

    def deliver() -> None:
        barrier.wait()
        with db_sessions.begin() as s:
            fresh.append(mark_delivery_seen(session=s, key="delivery:dup"))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fresh) == [False] * 9 + [True]


def test_old_deliveries_are_forgotten(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        mark_delivery_seen(session=s, key="old", now=utcnow() - timedelta(days=10))
        mark_delivery_seen(session=s, key="new")
    with db_sessions.begin() as s:
        assert purge_deliveries_older_than(session=s, days=7) == 1
        assert mark_delivery_seen(session=s, key="old")
        assert not mark_delivery_seen(session=s, key="new")
