"""A real ``relaydesk serve`` on loopback (stoppable and restartable on its port), and a
tiny static web server standing in for a customer's site."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from support.net import free_port

RELAYDESK = str(Path(sys.executable).parent / "relaydesk")  # the console script
API_KEY = "widget-test-key"


class RelayDeskServer:
    """``relaydesk serve`` on 127.0.0.1 with its own SQLite file, diagnostics off.

    ``env`` adds ``RELAYDESK_*`` settings, e.g. ``RELAYDESK_CHAT_RATE_LIMIT="2/minute"``.
    """

    def __init__(self, workdir: Path, *, port: int | None = None, **env: str) -> None:
        self.workdir = workdir
        self.port = port or free_port(["127.0.0.1"], udp=False)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "RELAYDESK_DATABASE_URL": f"sqlite:///{workdir / 'relaydesk.db'}",
            "RELAYDESK_DIAGNOSTICS_ENABLED": "false",
            "RELAYDESK_API_KEYS": API_KEY,
            "RELAYDESK_CHAT_RATE_LIMIT": "1000/minute",
            "RELAYDESK_LOG_LEVEL": "warning",
            **env,
        }
        self.log = workdir / "serve.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> RelayDeskServer:
        """Start and wait until ``/healthz`` answers."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [RELAYDESK, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"relaydesk serve exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"relaydesk serve did not come up:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> RelayDeskServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticSite:
    """Serves ``directory`` on 127.0.0.1 from a thread: another origin for CORS tests."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
