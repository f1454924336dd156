"""Chat turns under concurrent load against a real ``relaydesk serve`` on SQLite.

    .venv/bin/python benchmarks/chat.py [--clients 20] [--seconds 20]

Each client runs short conversations (relay error, mail client, "still failing",
"yes") with diagnostics off, so every turn is classifier + engine + SQLite.
``--think-ms`` is the pause between a client's turns (a person reading and
typing); ``--think-ms 0`` hammers the server back to back and so measures its
saturation throughput, where latency is mostly queueing.

Each client holds one keep-alive connection through ``loadgen.ThinConnection``;
``--client httpx`` drives the same load through httpx instead, whose own CPU
per request shows up in the figures on a machine shared with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from loadgen import ThinConnection

from service.evaluation import percentile

Post = Callable[[str, Any], Awaitable[tuple[int, Any]]]

SCRIPT = ["550 relay not permitted", "Outlook", "still failing", "yes it works"]


def start_server(port: int, database: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RELAYDESK_DATABASE_URL": f"sqlite:///{database}",
        "RELAYDESK_DIAGNOSTICS_ENABLED": "false",
        "RELAYDESK_CHAT_RATE_LIMIT": "1000000/minute",
        "RELAYDESK_LOG_LEVEL": "warning",
    }
    relaydesk = str(Path(sys.executable).parent / "relaydesk")
    process = subprocess.Popen(
        [relaydesk, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("relaydesk serve did not become ready")


async def client_loop(
    post: Post,
    stop_at: float,
    latencies: list[float],
    errors: list[int],
    think_s: float = 0.0,
) -> None:
    # People do not all press Enter at the same instant: spread the first turns.
    await asyncio.sleep(random.uniform(0, think_s))
    while time.monotonic() < stop_at:
        session = None
        for message in SCRIPT:
            started = time.perf_counter()
            status, body = await post("/v1/chat", {"session_id": session, "message": message})
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors.append(status)
                break
            session = body["session_id"]
            if think_s:
                await asyncio.sleep(think_s * random.uniform(0.5, 1.5))


async def thin_client(port: int, *args: Any) -> None:
    connection = await ThinConnection.open("127.0.0.1", port)
    try:
        await client_loop(connection.post_json, *args)
    finally:
        await connection.close()


async def httpx_client(client: httpx.AsyncClient, *args: Any) -> None:
    async def post(path: str, payload: Any) -> tuple[int, Any]:
        response = await client.post(path, json=payload)
        return response.status_code, response.json()

    await client_loop(post, *args)


async def run(port: int, clients: int, seconds: float, think_s: float, kind: str) -> None:
    latencies: list[float] = []
    errors: list[int] = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10
    ) as client:

        async def one(*args: Any) -> None:
            if kind == "httpx":
                await httpx_client(client, *args)
            else:
                await thin_client(port, *args)

        await one(time.monotonic() + 2, [], [])  # warm up
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(*(one(stop_at, latencies, errors, think_s) for _ in range(clients)))
        elapsed = time.monotonic() - started
    print(
        f"{kind} clients {clients}, think {think_s * 1000:.0f} ms, {len(latencies)} turns "
        f"in {elapsed:.1f} s, errors {len(errors)}"
    )
    print(
        f"p50 {percentile(latencies, 50):.1f} ms   p90 {percentile(latencies, 90):.1f} ms   "
        f"p99 {percentile(latencies, 99):.1f} ms   "
        f"turns/s {len(latencies) / elapsed:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--think-ms", type=float, default=500.0)
    parser.add_argument("--client", choices=["thin", "httpx"], default="thin")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server = start_server(args.port, Path(directory) / "bench.db")
        try:
            asyncio.run(
                run(args.port, args.clients, args.seconds, args.think_ms / 1000, args.client)
            )
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
