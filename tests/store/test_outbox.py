"""The outbox table: enqueue, leases, fencing, and claims that never overlap."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from service.store.db import utcnow
from service.store.enums import OutboxStatus
from service.store.outbox import (
    claim_due,
    enqueue,
    get_outbox,
    list_outbox,
    mark_failed,
    mark_sent,
)

Sessions = sessionmaker[Session]
URL = "http://127.0.0.1:9/hook"


def _enqueue(sessions: Sessions, n: int = 1, **kwargs: object) -> list[str]:
    with sessions.begin() as s:
        return [
            enqueue(
                session=s, kind="escalation.created", target_url=URL, body=f'{{"n":{i}}}', **kwargs
            ).id  # type: ignore[arg-type]
            for i in range(n)
        ]


def test_enqueue_and_claim(db_sessions: Sessions) -> None:
    with db_sessions.begin() as s:
        row = enqueue(
            session=s,
            kind="escalation.created",
            target_url=URL,
            body='{"id": "x"}',
            headers={"api_access_token": "t"},
        )
    assert row.status is OutboxStatus.PENDING and row.attempts == 0
    with db_sessions.begin() as s:
        claimed = claim_due(session=s)
    assert [c.id for c in claimed] == [row.id]
    assert claimed[0].status is OutboxStatus.SENDING and claimed[0].attempts == 1
    assert claimed[0].headers == {"api_access_token": "t"}
    with db_sessions.begin() as s:
        assert claim_due(session=s) == []  # leased
        assert mark_sent(session=s, outbox_id=row.id, attempt=1)
        assert not mark_sent(session=s, outbox_id=row.id, attempt=1)
    with db_sessions() as s:
        sent = get_outbox(session=s, outbox_id=row.id)
    assert sent is not None and sent.status is OutboxStatus.SENT and sent.sent_at is not None


def test_not_before_delays_a_row(db_sessions: Sessions) -> None:
    _enqueue(db_sessions, not_before=utcnow() + timedelta(minutes=5))
    with db_sessions.begin() as s:
        assert claim_due(session=s) == []
        assert len(claim_due(session=s, now=utcnow() + timedelta(minutes=6))) == 1


def test_failure_reschedules_then_buries(db_sessions: Sessions) -> None:
    (row_id,) = _enqueue(db_sessions)
    with db_sessions.begin() as s:
        (claimed,) = claim_due(session=s)
        retry_at = utcnow() + timedelta(seconds=30)
        assert mark_failed(
            session=s,
            outbox_id=row_id,
            attempt=claimed.attempts,
            error="HTTP 503",
            retry_at=retry_at,
        )
    with db_sessions.begin() as s:
        pending = get_outbox(session=s, outbox_id=row_id)
        assert pending is not None and pending.status is OutboxStatus.PENDING
        assert pending.last_error == "HTTP 503" and pending.next_attempt_at == retry_at
        assert claim_due(session=s) == []
        (again,) = claim_due(session=s, now=retry_at)
        assert again.attempts == 2
        assert mark_failed(session=s, outbox_id=row_id, attempt=2, error="HTTP 400", retry_at=None)
    with db_sessions() as s:
        dead = list_outbox(session=s, status=OutboxStatus.DEAD)
    assert [d.id for d in dead] == [row_id] and dead[0].last_error == "HTTP 400"


def test_expired_lease_is_reclaimed_and_fences_the_old_attempt(db_sessions: Sessions) -> None:
    (row_id,) = _enqueue(db_sessions)
    with db_sessions.begin() as s:
        (first,) = claim_due(session=s, lease=timedelta(seconds=30))
    later = utcnow() + timedelta(seconds=31)  # the first worker died mid-delivery
    with db_sessions.begin() as s:
        (second,) = claim_due(session=s, now=later)
    assert second.attempts == first.attempts + 1
    with db_sessions.begin() as s:
        assert not mark_sent(session=s, outbox_id=row_id, attempt=first.attempts)
        assert mark_sent(session=s, outbox_id=row_id, attempt=second.attempts)


def test_exhausted_expired_lease_is_buried(db_sessions: Sessions) -> None:
    (row_id,) = _enqueue(db_sessions)
    with db_sessions.begin() as s:
        claim_due(session=s, lease=timedelta(seconds=1), max_attempts=1)
    with db_sessions.begin() as s:
        assert claim_due(session=s, now=utcnow() + timedelta(seconds=2), max_attempts=1) == []
    with db_sessions() as s:
        row = get_outbox(session=s, outbox_id=row_id)
    assert row is not None and row.status is OutboxStatus.DEAD


def test_concurrent_claimers_never_share_a_row(db_sessions: Sessions) -> None:
    ids = set(_enqueue(db_sessions, 40))
    barrier = threading.Barrier(6)
    claimed: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        while True:
            with db_sessions.begin() as s:
                batch = claim_due(session=s, limit=3)
            if not batch:
                return
            with lock:
                claimed.extend(row.id for row in batch)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)
