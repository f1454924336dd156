"""Conversation sessions, transcripts, optimistic concurrency and purge."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.errors import Conflict, NotFound
from service.store.enums import Channel, Role, SessionStatus
from service.store.escalations import create_escalation, get_escalation
from service.store.feedback import add_feedback, list_feedback
from service.store.sessions import (
    add_message,
    count_sessions,
    create_session,
    ensure_session_by_ref,
    get_session,
    get_session_by_ref,
    purge_older_than,
    save_session,
    transcript,
)

Sessions = sessionmaker[Session]


def test_create_and_get(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        created = create_session(session=s, channel=Channel.CHAT, state={"rung": 0})
    with db_sessions() as s:
        got = get_session(session=s, session_id=created.id)
        assert get_session(session=s, session_id="0" * 32) is None
    assert got == created
    assert got.status is SessionStatus.ACTIVE and got.channel is Channel.CHAT
    assert (got.turns, got.version) == (0, 1)
    assert got.created_at.tzinfo is UTC and len(got.id) == 32


def test_external_ref_is_unique_per_channel(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        first = ensure_session_by_ref(session=s, channel=Channel.CHATWOOT, external_ref="42")
        again = ensure_session_by_ref(session=s, channel=Channel.CHATWOOT, external_ref="42")
        other = ensure_session_by_ref(session=s, channel=Channel.TICKET, external_ref="42")
    assert first.id == again.id != other.id
    with db_sessions() as s:
        found = get_session_by_ref(session=s, channel=Channel.CHATWOOT, external_ref="42")
        assert found is not None and found.id == first.id
        assert get_session_by_ref(session=s, channel=Channel.API, external_ref="42") is None


def test_concurrent_webhooks_for_one_conversation_get_one_session(db_sessions: Sessions) -> None:
    barrier = threading.Barrier(8)
    ids: list[str] = []

    def deliver() -> None:
        barrier.wait()
        with db_sessions.begin() as s:
            ids.append(
                ensure_session_by_ref(session=s, channel=Channel.CHATWOOT, external_ref="7").id
            )

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    with db_sessions() as s:
        assert count_sessions(session=s) == 1


def test_save_session_bumps_version_and_rejects_stale_writers(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        convo = create_session(session=s, channel=Channel.API)
    with db_sessions.begin() as s:
        saved = save_session(
            session=s,
            session_id=convo.id,
            state={"rung": 1},
            status=SessionStatus.ACTIVE,
            turns=1,
            expected_version=convo.version,
        )
    assert (saved.version, saved.turns, saved.state) == (2, 1, {"rung": 1})
    assert saved.updated_at >= convo.updated_at
    with db_sessions.begin() as s, pytest.raises(Conflict, match="version 2, not 1"):
        save_session(
            session=s,
            session_id=convo.id,
            state={"rung": 9},
            status=SessionStatus.RESOLVED,
            turns=1,
            expected_version=1,
        )
    with db_sessions.begin() as s, pytest.raises(NotFound):
        save_session(
            session=s,
            session_id="f" * 32,
            state={},
            status=SessionStatus.ACTIVE,
            turns=0,
            expected_version=1,
        )
    with db_sessions() as s:
        current = get_session(session=s, session_id=convo.id)
    assert current is not None and current.state == {"rung": 1}


def test_two_processes_saving_at_once_one_conflicts(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        convo = create_session(session=s, channel=Channel.CHAT)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def turn(n: int) -> None:
        barrier.wait()
        try:
            with db_sessions.begin() as s:
                save_session(
                    session=s,
                    session_id=convo.id,
                    state={"by": n},
                    status=SessionStatus.ACTIVE,
                    turns=1,
                    expected_version=1,
                )
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=turn, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["saved"]


def test_transcript_is_masked_and_ordered(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        convo = create_session(session=s, channel=Channel.CHAT)
        add_message(
            session=s,
            session_id=convo.id,
            turn=1,
            role=Role.CUSTOMER,
            text="550 relay not permitted, my password is hunter2",
            intent="relay.unknown_cause",
            confidence=0.88,
        )
        add_message(session=s, session_id=convo.id, turn=1, role=Role.BOT, text="Let's check.")
        add_message(session=s, session_id=convo.id, turn=2, role=Role.CUSTOMER, text="pwd=x")
    with db_sessions() as s:
        lines = transcript(session=s, session_id=convo.id)
        assert transcript(session=s, session_id="0" * 32) == []
    assert [(m.turn, m.role) for m in lines] == [
        (1, Role.CUSTOMER),
        (1, Role.BOT),
        (2, Role.CUSTOMER),
    ]
    assert lines[0].text == "550 relay not permitted, my password is ********"
    assert (lines[0].intent, lines[0].confidence) == ("relay.unknown_cause", 0.88)
    assert lines[2].text == "pwd=********"
    assert "hunter2" not in repr(lines)


def test_purge_removes_old_sessions_with_messages_and_feedback(db_sessions: Sessions) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=40)
    with db_sessions.begin() as s:
        old = create_session(session=s, channel=Channel.CHAT, now=long_ago)
        add_message(
            session=s, session_id=old.id, turn=1, role=Role.CUSTOMER, text="hi", now=long_ago
        )
        add_feedback(session=s, session_id=old.id, helpful=False, now=long_ago)
        escalation = create_escalation(
            session=s,
            session_id=old.id,
            channel=Channel.CHAT,
            reason="ladder_exhausted",
            transcript=[{"role": "customer", "text": "hi"}],
            now=long_ago,
        )
        fresh = create_session(session=s, channel=Channel.CHAT, now=now)
        add_message(session=s, session_id=fresh.id, turn=1, role=Role.CUSTOMER, text="yo")
        add_feedback(session=s, session_id=fresh.id, helpful=True)
    with db_sessions.begin() as s:
        assert purge_older_than(session=s, days=30) == 1
    with db_sessions.begin() as s:
        assert purge_older_than(session=s, days=30) == 0
    with db_sessions() as s:
        assert get_session(session=s, session_id=old.id) is None
        assert transcript(session=s, session_id=old.id) == []
        assert list_feedback(session=s, session_id=old.id) == []
        assert get_session(session=s, session_id=fresh.id) is not None
        assert len(transcript(session=s, session_id=fresh.id)) == 1
        assert len(list_feedback(session=s, session_id=fresh.id)) == 1
        kept = get_escalation(session=s, escalation_id=escalation.id)
    assert kept is not None and kept.transcript == [{"role": "customer", "text": "hi"}]


def test_purge_refuses_negative_days(db_sessions: Sessions) -> None:
    with db_sessions() as s, pytest.raises(ValueError):
        purge_older_than(session=s, days=-1)
