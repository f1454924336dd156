"""Loopback plumbing: free ports, listeners that never answer, and a connection recorder."""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any


def _bindable(address: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def free_port(addresses: Iterable[str], *, udp: bool = True) -> int:
    """A port free for TCP (and UDP) on every one of ``addresses`` (all loopback)."""
    addresses = list(addresses)
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = int(probe.getsockname()[1])
        kinds = [socket.SOCK_STREAM] + ([socket.SOCK_DGRAM] if udp else [])
        if all(_bindable(a, port, k) for a in addresses for k in kinds):
            return port
    raise RuntimeError(f"no common free port on {addresses}")


class SilentServer:
    """Accepts TCP connections (and UDP datagrams), reads, and never says a word.

    The model of a firewalled or hung server: connect succeeds, nothing comes back.
    """

    def __init__(self, address: str, port: int, *, udp: bool = False) -> None:
        self.address, self.port = address, port
        self.accepted = 0
        self.datagrams = 0
        self._selector = selectors.DefaultSelector()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((address, port))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._udp: socket.socket | None = None
        if udp:
            self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._udp.bind((address, port))
            self._udp.setblocking(False)
            self._selector.register(self._udp, selectors.EVENT_READ, "datagram")
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "stop")
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name=f"silent-{port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select():
                sock: Any = key.fileobj
                if key.data == "stop":
                    return
                if key.data == "accept":
                    client, _ = sock.accept()
                    client.setblocking(False)
                    self.accepted += 1
                    self._clients.append(client)
                    self._selector.register(client, selectors.EVENT_READ, "client")
                elif key.data == "datagram":
                    sock.recvfrom(65535)
                    self.datagrams += 1
                else:
                    try:
                        data = sock.recv(65535)
                    except OSError:
                        data = b""
                    if not data:
                        self._selector.unregister(sock)
                        self._clients.remove(sock)
                        sock.close()

    def close(self) -> None:
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        for sock in [*self._clients, self._listener, self._udp, self._wake_r, self._wake_w]:
            if sock is not None:
                sock.close()
        self._selector.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ConnectionRecorder:
    """Every address this process connects or sends to, via the ``socket.*`` audit events.

    Audit hooks cannot be removed, so one hook is installed for the process and
    recorders switch themselves on and off::

        with ConnectionRecorder.recording() as seen:
            ...
        assert ("10.0.0.1", 25) not in seen.addresses
    """

    _active: list[ConnectionRecorder] = []
    _installed = False
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.addresses: list[tuple[str, int]] = []

    @property
    def hosts(self) -> set[str]:
        return {host for host, _ in self.addresses}

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.sendto") and cls._active:
            address = args[1]
            if isinstance(address, tuple) and len(address) >= 2:
                for recorder in cls._active:
                    recorder.addresses.append((str(address[0]), int(address[1])))

    @classmethod
    @contextlib.contextmanager
    def recording(cls) -> Iterator[ConnectionRecorder]:
        with cls._lock:
            if not cls._installed:
                sys.addaudithook(cls._hook)
                cls._installed = True
        recorder = cls()
        cls._active.append(recorder)
        try:
            yield recorder
        finally:
            cls._active.remove(recorder)
