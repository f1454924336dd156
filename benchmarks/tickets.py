"""Ticket auto-reply throughput and latency, diagnostics off, in-process over ASGI.

    .venv/bin/python benchmarks/tickets.py                     # SQLite in a temp dir
    .venv/bin/python benchmarks/tickets.py --tickets 2000 --concurrency 20 --json
    .venv/bin/python benchmarks/tickets.py --database-url postgresql://postgres@127.0.0.1/test

Every request is a new ticket (a mix of relay errors, pasted bounces, mail questions and
hand-offs), so each one does the full work: claim, clean, classify, compose, store.
A second pass re-sends the same tickets and measures the stored-result path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.emails import EXCHANGE_BOUNCE, FORWARDED_WITH_THREAD, POSTFIX_BOUNCE  # noqa: E402

from service.evaluation import percentile  # noqa: E402
from service.main import create_app  # noqa: E402
from service.settings import Settings  # noqa: E402

BODIES = [
    ("Can't send", "Every email I send bounces with 550 relay not permitted. I use Outlook."),
    ("Fwd: email not sending", FORWARDED_WITH_THREAD),
    ("FW: Undelivered Mail Returned to Sender", POSTFIX_BOUNCE),
    ("Undeliverable: invoice", EXCHANGE_BOUNCE),
    ("Attachments", "What's the biggest attachment I can send? I have a 25MB drawing"),
    ("Settings", "What is the outgoing mail server name for Thunderbird?"),
    ("Call me", "Can I talk to a real person please"),
]


def ticket(number: int) -> dict[str, Any]:
    subject, body = BODIES[number % len(BODIES)]
    return {
        "ticket_id": f"BENCH-{number}",
        "subject": subject,
        "body": body,
        "requester": {"email": "jo@bakery-hove.co.uk", "name": "Jo"},
        "domain": None,
    }


async def run(database_url: str, tickets: int, concurrency: int) -> dict[str, Any]:
    settings = Settings(database_url=database_url, diagnostics_enabled=False)
    app = create_app(settings)
    results: dict[str, Any] = {"tickets": tickets, "concurrency": concurrency}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rd") as client:
            for _ in range(20):  # warm up
                await client.post("/v1/tickets/auto-reply", json=ticket(-1))
            for label in ("new", "repeat"):
                latencies: list[float] = []
                queue: asyncio.Queue[int] = asyncio.Queue()
                for number in range(tickets):
                    queue.put_nowait(number)

                async def worker(queue: asyncio.Queue[int], latencies: list[float]) -> None:
                    while not queue.empty():
                        number = queue.get_nowait()
                        started = time.perf_counter()
                        response = await client.post("/v1/tickets/auto-reply", json=ticket(number))
                        latencies.append((time.perf_counter() - started) * 1000)
                        response.raise_for_status()

                started = time.perf_counter()
                await asyncio.gather(*(worker(queue, latencies) for _ in range(concurrency)))
                wall = time.perf_counter() - started
                latencies.sort()
                results[label] = {
                    "per_second": round(tickets / wall, 1),
                    "p50_ms": round(percentile(latencies, 50), 1),
                    "p99_ms": round(percentile(latencies, 99), 1),
                }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=700)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite:///{workdir}/bench.db"
        results = asyncio.run(run(url, args.tickets, args.concurrency))
    if args.json:
        print(json.dumps(results))
        return
    print(f"{args.tickets} tickets, {args.concurrency} concurrent clients, diagnostics off")
    for label in ("new", "repeat"):
        figures = results[label]
        print(
            f"  {label:>6}: {figures['per_second']:>7} replies/s  "
            f"p50 {figures['p50_ms']} ms  p99 {figures['p99_ms']} ms"
        )


if __name__ == "__main__":
    main()
