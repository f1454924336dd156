"""Run ``relaydesk serve`` as a real subprocess on 127.0.0.1 for a test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RELAYDESK = str(Path(sys.executable).parent / "relaydesk")  # the console script


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    env: dict[str, str], *, port: int | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """Start the service with ``env`` added to the environment; yield its base URL."""
    port = port or free_port()
    process = subprocess.Popen(
        [RELAYDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                assert process.stderr is not None
                raise RuntimeError(f"relaydesk serve exited: {process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stderr:
            process.stderr.close()
