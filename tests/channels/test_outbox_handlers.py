"""In-process handlers and per-kind headers in the outbox worker."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker
from support.recorder import recording_server

from service.channels.outbox_worker import OutboxWorker
from service.store.enums import OutboxStatus
from service.store.outbox import OutboxRecord, enqueue, get_outbox, list_outbox


def test_handler_runs_in_process_and_failures_retry(db_sessions: sessionmaker[Session]) -> None:
    calls: list[str] = []

    async def handler(row: OutboxRecord) -> None:
        calls.append(row.body)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")

    with db_sessions.begin() as s:
        job = enqueue(session=s, kind="job", target_url="relaydesk:job", body='{"n": 1}')

    async def scenario() -> None:
        worker = OutboxWorker(db_sessions, base_delay_s=0.05, max_delay_s=0.1)
        worker.register("job", handler)
        try:
            await worker.run_once()
            await asyncio.sleep(0.15)
            await worker.run_once()
        finally:
            await worker.aclose()

    asyncio.run(scenario())
    assert calls == ['{"n": 1}', '{"n": 1}']
    with db_sessions.begin() as s:
        row = get_outbox(session=s, outbox_id=job.id)
    assert row is not None and row.status is OutboxStatus.SENT


def test_kind_headers_are_added_at_send_time(db_sessions: sessionmaker[Session]) -> None:
    with recording_server() as server:
        with db_sessions.begin() as s:
            enqueue(session=s, kind="chatwoot.message", target_url=f"{server.url}/m", body="{}")
            enqueue(session=s, kind="other", target_url=f"{server.url}/o", body="{}")

        async def scenario() -> None:
            worker = OutboxWorker(
                db_sessions, kind_headers={"chatwoot.": {"api_access_token": "tok"}}
            )
            try:
                await worker.run_once()
            finally:
                await worker.aclose()

        asyncio.run(scenario())
    by_path = {r.path: r.headers for r in server.requests}
    assert by_path["/m"]["api_access_token"] == "tok"
    assert "api_access_token" not in by_path["/o"]
    with db_sessions.begin() as s:
        assert all(row.headers == {} for row in list_outbox(session=s))  # never stored
