"""Escalations: numbering, listing with cursors, atomic claims, resolution."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.errors import Conflict, InvalidInput, NotFound
from service.store.enums import Channel, EscalationStatus
from service.store.escalations import (
    EscalationRecord,
    claim_escalation,
    create_escalation,
    decode_cursor,
    encode_cursor,
    get_escalation,
    list_escalations,
    reference,
    resolve_escalation,
)

Sessions = sessionmaker[Session]
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _create(sessions: Sessions, *, now: datetime | None = None) -> EscalationRecord:
    with sessions.begin() as s:
        return create_escalation(
            session=s,
            session_id="a" * 32,
            channel=Channel.CHAT,
            reason="handoff.human",
            intent="relay.unknown_cause",
            confidence=0.42,
            entities={"domain": "bakery-hove.co.uk", "client": "outlook"},
            transcript=[{"role": "customer", "text": "550 5.7.1 relay not permitted"}],
            diagnostics={"causes": ["mx_elsewhere"]},
            steps_tried=["auth", "port_587"],
            now=now,
        )


def test_create_and_get_round_trip(db_sessions: Sessions) -> None:
    created = _create(db_sessions)
    with db_sessions() as s:
        got = get_escalation(session=s, escalation_id=created.id)
        assert get_escalation(session=s, escalation_id="0" * 32) is None
    assert got == created
    assert got.status is EscalationStatus.OPEN and got.channel is Channel.CHAT
    assert got.entities == {"domain": "bakery-hove.co.uk", "client": "outlook"}
    assert got.steps_tried == ["auth", "port_587"]
    assert got.diagnostics == {"causes": ["mx_elsewhere"]}
    assert got.claimed_by is None and got.resolved_at is None


def test_numbers_increase_and_read_as_references(db_sessions: Sessions) -> None:
    numbers = [_create(db_sessions).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert reference(123) == "RD-000123"
    assert _create(db_sessions).reference == "RD-000004"


def test_concurrent_creation_gives_distinct_numbers(db_sessions: Sessions) -> None:
    barrier = threading.Barrier(8)
    numbers: list[int] = []

    def create() -> None:
        barrier.wait()
        numbers.append(_create(db_sessions).number)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 9))


def test_list_pages_newest_first_across_ties(db_sessions: Sessions) -> None:
    # Seven escalations, three of them created at the very same instant.
    stamps = [T0 + timedelta(minutes=m) for m in (0, 1, 2, 2, 2, 3, 4)]
    created = [_create(db_sessions, now=stamp) for stamp in stamps]
    expected = sorted(created, key=lambda e: (e.created_at, e.id), reverse=True)

    seen: list[EscalationRecord] = []
    cursor = None
    pages = 0
    while True:
        with db_sessions() as s:
            page = list_escalations(session=s, limit=3, cursor=cursor)
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert [e.id for e in seen] == [e.id for e in expected]


def test_list_filters_by_status(db_sessions: Sessions) -> None:
    first, second, third = (_create(db_sessions) for _ in range(3))
    with db_sessions.begin() as s:
        claim_escalation(session=s, escalation_id=second.id, agent="ana")
    with db_sessions() as s:
        open_page = list_escalations(session=s, status=EscalationStatus.OPEN)
        claimed_page = list_escalations(session=s, status=EscalationStatus.CLAIMED)
        resolved_page = list_escalations(session=s, status=EscalationStatus.RESOLVED)
    assert {e.id for e in open_page.items} == {first.id, third.id}
    assert [e.id for e in claimed_page.items] == [second.id]
    assert resolved_page.items == [] and resolved_page.next_cursor is None


@pytest.mark.parametrize("limit", [0, 201, -5])
def test_list_rejects_limits_out_of_range(db_sessions: Sessions, limit: int) -> None:
    with db_sessions() as s, pytest.raises(InvalidInput):
        list_escalations(session=s, limit=limit)


@pytest.mark.parametrize(
    "cursor", ["", "not-base64!", "bm90IGpzb24", "WzEsIDJd", "WyIyMDI2LTAxLTA1IiwgIngiXQ"]
)
def test_malformed_cursors_are_invalid_input(db_sessions: Sessions, cursor: str) -> None:
    with db_sessions() as s, pytest.raises(InvalidInput, match="invalid cursor"):
        list_escalations(session=s, cursor=cursor)


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(T0, "abc")) == (T0, "abc")


def test_claim_is_idempotent_for_the_holder_and_conflicts_for_others(db_sessions: Sessions) -> None:
    escalation = _create(db_sessions)
    with db_sessions.begin() as s:
        claimed = claim_escalation(session=s, escalation_id=escalation.id, agent="ana")
    assert claimed.status is EscalationStatus.CLAIMED and claimed.claimed_by == "ana"
    assert claimed.claimed_at is not None
    with db_sessions.begin() as s:
        again = claim_escalation(session=s, escalation_id=escalation.id, agent="ana")
    assert again == claimed
    with db_sessions.begin() as s, pytest.raises(Conflict, match="claimed by ana"):
        claim_escalation(session=s, escalation_id=escalation.id, agent="bo")
    with db_sessions.begin() as s, pytest.raises(NotFound):
        claim_escalation(session=s, escalation_id="0" * 32, agent="ana")


def test_ten_concurrent_claimers_exactly_one_wins(db_sessions: Sessions) -> None:
    escalation = _create(db_sessions)
    barrier = threading.Barrier(10)
    winners: list[str] = []
    conflicts: list[str] = []

    def claim(agent: str) -> None:
        barrier.wait()
        try:
            with db_sessions.begin() as s:
                claim_escalation(session=s, escalation_id=escalation.id, agent=agent)
            winners.append(agent)
        except Conflict:
            conflicts.append(agent)

    threads = [threading.Thread(target=claim, args=(f"agent-{i}",)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(conflicts) == 9
    with db_sessions() as s:
        final = get_escalation(session=s, escalation_id=escalation.id)
    assert final is not None and final.claimed_by == winners[0]


def test_resolve(db_sessions: Sessions) -> None:
    escalation = _create(db_sessions)
    with db_sessions.begin() as s:
        claim_escalation(session=s, escalation_id=escalation.id, agent="ana")
    with db_sessions.begin() as s:
        resolved = resolve_escalation(session=s, escalation_id=escalation.id, note="MX fixed")
    assert resolved.status is EscalationStatus.RESOLVED
    assert resolved.resolution_note == "MX fixed" and resolved.resolved_at is not None
    assert resolved.claimed_by == "ana"
    with db_sessions.begin() as s:
        repeat = resolve_escalation(session=s, escalation_id=escalation.id, note="MX fixed")
    assert repeat == resolved
    with db_sessions.begin() as s, pytest.raises(Conflict, match="already resolved"):
        resolve_escalation(session=s, escalation_id=escalation.id, note="something else")
    with db_sessions.begin() as s, pytest.raises(Conflict, match="already resolved"):
        claim_escalation(session=s, escalation_id=escalation.id, agent="ana")
    with db_sessions.begin() as s, pytest.raises(NotFound):
        resolve_escalation(session=s, escalation_id="0" * 32, note="x")


def test_resolving_an_open_escalation_records_the_agent(db_sessions: Sessions) -> None:
    escalation = _create(db_sessions)
    with db_sessions.begin() as s:
        resolved = resolve_escalation(
            session=s, escalation_id=escalation.id, note="done", agent="bo"
        )
    assert resolved.status is EscalationStatus.RESOLVED and resolved.claimed_by == "bo"
