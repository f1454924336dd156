"""Feedback and the figures behind /v1/stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.errors import NotFound
from service.store.enums import Channel, Role, SessionStatus
from service.store.feedback import add_feedback, list_feedback
from service.store.sessions import add_message, create_session, save_session
from service.store.stats import compute_stats

Sessions = sessionmaker[Session]
NOW = datetime.now(UTC)
LAST_MONTH = NOW - timedelta(days=30)


def test_feedback_is_stored_masked(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        convo = create_session(session=s, channel=Channel.CHAT)
        record = add_feedback(
            session=s, session_id=convo.id, helpful=True, comment="worked! password: Abc123"
        )
        add_feedback(session=s, session_id=convo.id, helpful=False)
    assert record.comment == "worked! password: ********"
    with db_sessions() as s:
        stored = list_feedback(session=s, session_id=convo.id)
    assert [(f.helpful, f.comment) for f in stored] == [
        (True, "worked! password: ********"),
        (False, None),
    ]


def test_feedback_on_unknown_session_is_not_found(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s, pytest.raises(NotFound):
        add_feedback(session=s, session_id="0" * 32, helpful=True)


def _conversation(s: Session, *, status: SessionStatus, intents: list[str], now: datetime) -> str:
    convo = create_session(session=s, channel=Channel.CHAT, now=now)
    for turn, intent in enumerate(intents, start=1):
        add_message(
            session=s,
            session_id=convo.id,
            turn=turn,
            role=Role.CUSTOMER,
            text="...",
            intent=intent,
            confidence=0.9,
            now=now,
        )
        add_message(session=s, session_id=convo.id, turn=turn, role=Role.BOT, text="ok", now=now)
    save_session(
        session=s,
        session_id=convo.id,
        state={},
        status=status,
        turns=len(intents),
        expected_version=1,
        now=now,
    )
    return convo.id


def test_stats(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        old = _conversation(
            s, status=SessionStatus.ESCALATED, intents=["handoff.human"], now=LAST_MONTH
        )
        add_feedback(session=s, session_id=old, helpful=False, now=LAST_MONTH)
        a = _conversation(
            s, status=SessionStatus.RESOLVED, intents=["relay.unknown_cause", "yes"], now=NOW
        )
        b = _conversation(s, status=SessionStatus.RESOLVED, intents=["mail.size_limit"], now=NOW)
        _conversation(s, status=SessionStatus.ESCALATED, intents=["relay.unknown_cause"], now=NOW)
        _conversation(s, status=SessionStatus.ACTIVE, intents=["smalltalk.greet"], now=NOW)
        add_feedback(session=s, session_id=a, helpful=True, now=NOW)
        add_feedback(session=s, session_id=b, helpful=True, now=NOW)

    with db_sessions() as s:
        everything = compute_stats(session=s)
        recent = compute_stats(session=s, since=NOW - timedelta(days=1))
        future = compute_stats(session=s, since=NOW + timedelta(days=1))

    assert (everything.conversations, everything.resolved_by_bot, everything.escalated) == (5, 2, 2)
    assert everything.deflection_rate == pytest.approx(0.5)
    assert everything.helpful_rate == pytest.approx(2 / 3) and everything.feedback == 3
    assert everything.intents["handoff.human"] == 1

    assert (recent.conversations, recent.resolved_by_bot, recent.escalated) == (4, 2, 1)
    assert recent.deflection_rate == pytest.approx(2 / 3)
    assert recent.helpful_rate == 1.0
    assert recent.intents == {
        "relay.unknown_cause": 2,
        "mail.size_limit": 1,
        "smalltalk.greet": 1,
        "yes": 1,
    }
    assert list(recent.intents)[0] == "relay.unknown_cause"  # most frequent first

    assert future.conversations == 0 and future.intents == {}
    assert future.deflection_rate is None and future.helpful_rate is None
