"""Deliver the durable outbox over HTTP, with retries, backoff and signatures.

::

    worker = OutboxWorker(sessions, signing_secrets={"escalation.created": secret})
    task = asyncio.create_task(worker.run())     # in the app's lifespan
    ...
    worker.wake()                                # after enqueueing: deliver now
    ...
    task.cancel(); await worker.aclose()

Each due row is leased (see ``service.store.outbox``), POSTed with
``httpx.Timeout(5.0, connect=2.0)``, then marked sent, retried after an
exponential backoff with jitter, or marked dead after ``max_attempts`` or a
response that retrying cannot fix (4xx other than 408/425/429). Rows left
pending or mid-flight by a stopped process are delivered after the next start.
Rows of a kind in ``signing_secrets`` are signed::

    X-RelayDesk-Timestamp: 1767000000
    X-RelayDesk-Signature: sha256=<hex HMAC-SHA256 of "1767000000.<body>">

``kind_headers`` adds headers to every row whose kind starts with a prefix
(``{"chatwoot.": {"api_access_token": token}}``), so credentials stay out of
the database. Rows of a kind in ``handlers`` are not POSTed: the handler runs
in-process instead (durable background jobs, e.g. a Chatwoot turn), with the
same leases, retries and backoff; any exception it raises is a retryable failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from service.store.db import utcnow
from service.store.outbox import OutboxRecord, claim_due, mark_failed, mark_sent

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
SIGNATURE_HEADER = "X-RelayDesk-Signature"
TIMESTAMP_HEADER = "X-RelayDesk-Timestamp"
RETRYABLE_4XX = frozenset({408, 425, 429})

Handler = Callable[[OutboxRecord], Awaitable[None]]


def sign(secret: str, timestamp: str | int, body: str | bytes) -> str:
    """``"sha256=<hex>"``: HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``.

    >>> sign("s3cret", 1767000000, '{"a":1}')[:7]
    'sha256='
    """
    payload = body if isinstance(body, bytes) else body.encode()
    message = f"{timestamp}.".encode() + payload
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | int, body: str | bytes, signature: str) -> bool:
    """Whether ``signature`` is ``sign(secret, timestamp, body)``, compared in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempt: int, *, base_s: float, max_s: float, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Exponential (``base_s * 2**(attempt-1)``, capped at ``max_s``) with jitter
    over its upper half, so retries of many rows do not arrive in lockstep.
    """
    ceiling = min(max_s, base_s * 2 ** max(attempt - 1, 0))
    return rng.uniform(ceiling / 2, ceiling)


class DeliveryFailed(Exception):
    """One attempt failed; ``retryable`` says whether another may succeed."""

    def __init__(self, message: str, *, retryable: bool, retry_after_s: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class OutboxWorker:
    """Delivers due outbox rows; one per process is enough, several are safe."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        client: httpx.AsyncClient | None = None,
        signing_secrets: Mapping[str, str] | None = None,
        kind_headers: Mapping[str, Mapping[str, str]] | None = None,
        handlers: Mapping[str, Handler] | None = None,
        max_attempts: int = 8,
        base_delay_s: float = 2.0,
        max_delay_s: float = 900.0,
        batch_size: int = 10,
        poll_interval_s: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self._secrets = dict(signing_secrets or {})
        self._kind_headers = {k: dict(v) for k, v in (kind_headers or {}).items()}
        self._handlers = dict(handlers or {})
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._lease = lease
        # A delivery must end well inside its lease, or another worker may retake it.
        self._deadline_s = lease.total_seconds() / 2
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = False

    def register(self, kind: str, handler: Handler) -> None:
        """Run ``handler`` for rows of ``kind`` instead of POSTing them."""
        self._handlers[kind] = handler

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (call from the loop)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current round, then return from ``run`` (call from the loop).

        Prefer this to cancelling: a round's database work runs in a thread that
        cancellation cannot stop, and it must end before the engine is disposed.
        """
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped; a failing database only delays the next round."""
        while not self._stopping:
            try:
                delivered = await self.run_once()
            except Exception:  # keep the worker alive through a database outage
                log.exception("outbox round failed")
                delivered = 0
            if delivered < self._batch_size and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def run_once(self) -> int:
        """Claim one batch of due rows and attempt each; return how many were attempted."""
        rows = await asyncio.to_thread(self._claim)
        if rows:
            await asyncio.gather(*(self._attempt(row) for row in rows))
        return len(rows)

    async def aclose(self) -> None:
        """Close the HTTP client if the worker made it."""
        if self._own_client:
            await self._client.aclose()

    def _claim(self) -> list[OutboxRecord]:
        with self._sessions.begin() as session:
            return claim_due(
                session=session,
                limit=self._batch_size,
                lease=self._lease,
                max_attempts=self._max_attempts,
            )

    async def _attempt(self, row: OutboxRecord) -> None:
        try:
            await asyncio.wait_for(self._deliver(row), self._deadline_s)
        except DeliveryFailed as exc:
            await asyncio.to_thread(self._failed, row, exc)
        except TimeoutError:
            failure = DeliveryFailed("delivery deadline exceeded", retryable=True)
            await asyncio.to_thread(self._failed, row, failure)
        else:
            await asyncio.to_thread(self._sent, row)
            self._wake.set()  # rows held back until this one was sent are due now

    async def _deliver(self, row: OutboxRecord) -> None:
        handler = self._handlers.get(row.kind)
        if handler is None:
            await self._post(row)
            return
        try:
            await handler(row)
        except Exception as exc:
            log.exception("outbox %s (%s): handler failed", row.id, row.kind)
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True) from exc

    async def _post(self, row: OutboxRecord) -> None:
        headers = {"Content-Type": "application/json", **row.headers}
        for prefix, extra in self._kind_headers.items():
            if row.kind.startswith(prefix):
                headers.update(extra)
        secret = self._secrets.get(row.kind)
        if secret is not None:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, row.body)
        try:
            response = await self._client.post(
                row.target_url, content=row.body.encode(), headers=headers
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True) from exc
        if response.is_success:
            return
        status = response.status_code
        retryable = status >= 500 or status in RETRYABLE_4XX
        raise DeliveryFailed(
            f"HTTP {status}", retryable=retryable, retry_after_s=_retry_after(response)
        )

    def _sent(self, row: OutboxRecord) -> None:
        with self._sessions.begin() as session:
            if not mark_sent(session=session, outbox_id=row.id, attempt=row.attempts):
                log.warning(
                    "outbox %s: delivered, but attempt %d was superseded", row.id, row.attempts
                )

    def _failed(self, row: OutboxRecord, failure: DeliveryFailed) -> None:
        retry_at: datetime | None = None
        if failure.retryable and row.attempts < self._max_attempts:
            delay = backoff(
                row.attempts, base_s=self._base_delay_s, max_s=self._max_delay_s, rng=self._rng
            )
            if failure.retry_after_s is not None:
                delay = max(delay, min(failure.retry_after_s, self._max_delay_s))
            retry_at = utcnow() + timedelta(seconds=delay)
        log.warning(
            "outbox %s (%s) attempt %d failed: %s; %s",
            row.id,
            row.kind,
            row.attempts,
            failure,
            f"retry at {retry_at.isoformat()}" if retry_at else "giving up (dead)",
        )
        with self._sessions.begin() as session:
            mark_failed(
                session=session,
                outbox_id=row.id,
                attempt=row.attempts,
                error=str(failure),
                retry_at=retry_at,
            )


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when given as a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
