"""Outbox ordering: a row enqueued ``after`` another waits until that one is finished."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from service.store.enums import OutboxStatus
from service.store.outbox import claim_due, enqueue, mark_failed, mark_sent


def test_a_row_waits_for_its_predecessor(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions.begin() as s:
        note = enqueue(session=s, kind="chatwoot.note", target_url="http://x/n", body="{}")
        toggle = enqueue(
            session=s, kind="chatwoot.toggle", target_url="http://x/t", body="{}", after=note.id
        )
    with db_sessions.begin() as s:
        assert [r.id for r in claim_due(session=s)] == [note.id]
    with db_sessions.begin() as s:
        assert claim_due(session=s) == []  # the note is in flight: the toggle waits
        mark_sent(session=s, outbox_id=note.id, attempt=1)
    with db_sessions.begin() as s:
        (claimed,) = claim_due(session=s)
    assert claimed.id == toggle.id and claimed.after_id == note.id


def test_a_dead_predecessor_releases_the_row(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions.begin() as s:
        first = enqueue(session=s, kind="k", target_url="http://x/1", body="{}")
        second = enqueue(session=s, kind="k", target_url="http://x/2", body="{}", after=first.id)
    with db_sessions.begin() as s:
        claim_due(session=s)
        mark_failed(session=s, outbox_id=first.id, attempt=1, error="HTTP 404", retry_at=None)
    with db_sessions.begin() as s:
        (claimed,) = claim_due(session=s)
    assert claimed.id == second.id and claimed.status is OutboxStatus.SENDING
