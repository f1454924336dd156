"""A thin HTTP/1.1 JSON client for load generation: one keep-alive connection each.

The load generator shares this 2-core machine with the server, so its own cost
per request is part of what it measures. httpx spends about a millisecond of
Python per request; this client writes a request and reads ``Content-Length``
bytes back, as wrk or oha would::

    connection = await ThinConnection.open("127.0.0.1", 8000)
    status, body = await connection.post_json("/v1/chat", {"message": "hi"})
    await connection.close()
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

_TIMEOUT_S = 10.0


class ThinConnection:
    """One keep-alive connection; requests on it go one at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> ThinConnection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), _TIMEOUT_S)
        return cls(reader, writer)

    async def post_json(self, path: str, payload: Any) -> tuple[int, Any]:
        """POST ``payload`` as JSON; the status and the decoded JSON body (None if empty)."""
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: loadgen\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self._writer.write(head + body)
        return await asyncio.wait_for(self._read_response(), _TIMEOUT_S)

    async def _read_response(self) -> tuple[int, Any]:
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self._reader.readexactly(length) if length else b""
        return status, json.loads(body) if body else None

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
