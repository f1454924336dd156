"""The outbox worker against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.channels.outbox_worker import (
    DEFAULT_TIMEOUT,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    OutboxWorker,
    backoff,
    sign,
    verify,
)
from service.store.db import make_engine, make_session_factory, utcnow
from service.store.enums import OutboxStatus
from service.store.outbox import OutboxRecord, claim_due, enqueue, get_outbox, list_outbox

pytestmark = pytest.mark.anyio
Sessions = sessionmaker[Session]
SECRET = "whsec-test"
KIND = "escalation.created"


@dataclass
class Hook:
    """A webhook receiver: answers ``statuses`` in turn (then 200), records every call."""

    url: str
    statuses: list[int] = field(default_factory=list)
    calls: list[tuple[dict[str, str], str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[str]:
        return [body for _, body in self.calls]


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            with receiver.lock:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.calls.append((dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/relaydesk"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, trust_env=False) as http:
        yield http


def _worker(sessions: Sessions, client: httpx.AsyncClient, **kwargs: object) -> OutboxWorker:
    options: dict[str, object] = {
        "signing_secrets": {KIND: SECRET},
        "base_delay_s": 0.01,
        "max_delay_s": 0.05,
        "poll_interval_s": 0.01,
        "rng": random.Random(7),
    }
    options.update(kwargs)
    return OutboxWorker(sessions, client=client, **options)  # type: ignore[arg-type]


def _enqueue(sessions: Sessions, url: str, n: int = 1, kind: str = KIND) -> list[str]:
    with sessions.begin() as s:
        return [
            enqueue(session=s, kind=kind, target_url=url, body=json.dumps({"n": i})).id
            for i in range(n)
        ]


def _rows(sessions: Sessions) -> list[OutboxRecord]:
    with sessions() as s:
        return list_outbox(session=s)


async def _drain(worker: OutboxWorker, sessions: Sessions, *, timeout_s: float = 10) -> None:
    """Run the worker until no row is pending or sending."""
    task = asyncio.create_task(worker.run())
    deadline = time.monotonic() + timeout_s
    try:
        while any(
            r.status in {OutboxStatus.PENDING, OutboxStatus.SENDING} for r in _rows(sessions)
        ):
            assert time.monotonic() < deadline, _rows(sessions)
            await asyncio.sleep(0.02)
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout_s)


def test_sign_matches_an_independent_hmac() -> None:
    expected = hmac.new(b"k", b'1767000000.{"a":1}', hashlib.sha256).hexdigest()
    assert sign("k", 1767000000, '{"a":1}') == f"sha256={expected}"
    assert sign("k", "1767000000", b'{"a":1}') == f"sha256={expected}"
    assert verify("k", 1767000000, '{"a":1}', f"sha256={expected}")
    assert not verify("k", 1767000001, '{"a":1}', f"sha256={expected}")


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 60.0)]:
        delays = [backoff(attempt, base_s=1.0, max_s=60.0, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


async def test_fails_twice_then_delivers_once_signed(
    db_sessions: Sessions, hook: Hook, client: httpx.AsyncClient
) -> None:
    hook.statuses = [500, 503]
    (row_id,) = _enqueue(db_sessions, hook.url)
    await _drain(_worker(db_sessions, client), db_sessions)

    assert len(hook.calls) == 1
    headers, body = hook.calls[0]
    assert body == '{"n": 0}'
    assert headers["Content-Type"] == "application/json"
    timestamp = headers[TIMESTAMP_HEADER]
    assert abs(int(timestamp) - time.time()) < 60
    assert verify(SECRET, timestamp, body, headers[SIGNATURE_HEADER])
    with db_sessions() as s:
        row = get_outbox(session=s, outbox_id=row_id)
    assert row is not None and row.status is OutboxStatus.SENT
    assert row.attempts == 3 and row.sent_at is not None


async def test_unsigned_kinds_carry_their_own_headers(
    db_sessions: Sessions, hook: Hook, client: httpx.AsyncClient
) -> None:
    with db_sessions.begin() as s:
        enqueue(
            session=s,
            kind="chatwoot.message",
            target_url=hook.url,
            body="{}",
            headers={"api_access_token": "bot-token"},
        )
    await _drain(_worker(db_sessions, client), db_sessions)
    ((headers, _),) = hook.calls
    assert headers["api_access_token"] == "bot-token"
    assert SIGNATURE_HEADER not in headers and TIMESTAMP_HEADER not in headers


async def test_permanent_client_error_goes_dead_at_once(
    db_sessions: Sessions, hook: Hook, client: httpx.AsyncClient
) -> None:
    hook.statuses = [400]
    (row_id,) = _enqueue(db_sessions, hook.url)
    await _drain(_worker(db_sessions, client), db_sessions)
    with db_sessions() as s:
        row = get_outbox(session=s, outbox_id=row_id)
    assert row is not None and row.status is OutboxStatus.DEAD
    assert (row.attempts, row.last_error) == (1, "HTTP 400")
    assert hook.calls == []


async def test_gives_up_after_max_attempts(
    db_sessions: Sessions, hook: Hook, client: httpx.AsyncClient
) -> None:
    hook.statuses = [500] * 10
    (row_id,) = _enqueue(db_sessions, hook.url)
    await _drain(_worker(db_sessions, client, max_attempts=4), db_sessions)
    with db_sessions() as s:
        row = get_outbox(session=s, outbox_id=row_id)
    assert row is not None and row.status is OutboxStatus.DEAD
    assert (row.attempts, row.last_error) == (4, "HTTP 500")
    assert len(hook.statuses) == 6  # exactly four requests were made


async def test_connection_refused_is_retried(
    db_sessions: Sessions, client: httpx.AsyncClient
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (row_id,) = _enqueue(db_sessions, f"http://127.0.0.1:{port}/")
    worker = _worker(db_sessions, client, base_delay_s=60.0, max_delay_s=60.0)
    assert await worker.run_once() == 1
    with db_sessions() as s:
        row = get_outbox(session=s, outbox_id=row_id)
    assert row is not None and row.status is OutboxStatus.PENDING
    assert row.last_error is not None and row.last_error.startswith("ConnectError")
    assert (row.next_attempt_at - utcnow()).total_seconds() > 25


async def test_restart_delivers_rows_left_pending_or_mid_flight(
    migrated_url: str, hook: Hook, client: httpx.AsyncClient
) -> None:
    # First process: enqueues three rows, starts sending one, and dies.
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    _enqueue(sessions, hook.url, 3)
    with sessions.begin() as s:
        (in_flight,) = claim_due(session=s, limit=1, lease=timedelta(milliseconds=200))
    engine.dispose()

    await asyncio.sleep(0.3)  # the dead process's lease runs out
    engine = make_engine(migrated_url)
    try:
        sessions = make_session_factory(engine)
        await _drain(_worker(sessions, client), sessions)
        rows = _rows(sessions)
    finally:
        engine.dispose()
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 3
    assert sorted(hook.accepted()) == sorted(json.dumps({"n": i}) for i in range(3))
    assert next(r for r in rows if r.id == in_flight.id).attempts == 2


async def test_two_processes_deliver_each_row_once(
    migrated_url: str, hook: Hook, client: httpx.AsyncClient
) -> None:
    engines = [make_engine(migrated_url), make_engine(migrated_url)]
    try:
        first, second = (make_session_factory(engine) for engine in engines)
        _enqueue(first, hook.url, 30)
        workers = [_worker(first, client, batch_size=4), _worker(second, client, batch_size=4)]
        tasks = [asyncio.create_task(worker.run()) for worker in workers]
        deadline = time.monotonic() + 15
        while any(r.status is not OutboxStatus.SENT for r in _rows(first)):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        for worker in workers:
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)
    finally:
        for engine in engines:
            engine.dispose()
    bodies = hook.accepted()
    assert len(bodies) == 30 and len(set(bodies)) == 30


async def test_worker_owns_and_closes_its_default_client(db_sessions: Sessions) -> None:
    worker = OutboxWorker(db_sessions)
    assert await worker.run_once() == 0
    await worker.aclose()
