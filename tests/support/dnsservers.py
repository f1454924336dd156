"""Debian's nsd (authoritative) and unbound (recursive) as foreground processes on loopback.

Each writes its configuration into a work directory, runs unprivileged-friendly on a
high port, and is ready when it answers::

    nsd = NsdServer(workdir / "a", "127.0.0.11", 5300, {"example.test": zone_text})
    nsd.start()
    nsd.set_zone("example.test", new_text)     # SIGHUP reload, waits for the new serial
    resolver = UnboundServer(workdir / "r", "127.0.0.53", 5301, stubs={"test": ["127.0.0.11@5300"]})
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

READY_TIMEOUT_S = 10.0


def soa_serial(address: str, port: int, zone: str, *, timeout: float = 0.3) -> int | None:
    """The serial a server gives for ``zone`` right now, or ``None`` if it does not answer."""
    query = dns.message.make_query(zone, "SOA")
    try:
        response = dns.query.udp(query, address, port=port, timeout=timeout)
    except (dns.exception.Timeout, OSError):
        return None
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(rrset[0].serial)
    return None


def zone_text(origin: str, serial: int, records: Sequence[str], *, ttl: int = 300) -> str:
    """A zone file: ``$ORIGIN``, ``$TTL``, an SOA, then the records.

    A record starting with a type or a TTL (``"MX 10 mx.test."``, ``"300 MX ..."``) is
    at the apex; otherwise the first word is the owner (``"mail A 127.0.0.1"``).
    """
    apex = {"NS", "MX", "A", "AAAA", "TXT", "CNAME"}
    lines = [f"@ {r}" if r.split()[0] in apex or r[0].isdigit() else r for r in records]
    return "\n".join(
        [
            f"$ORIGIN {origin}.",
            f"$TTL {ttl}",
            f"@ IN SOA ns1.hosting.test. hostmaster.hosting.test. {serial} 3600 600 86400 60",
            *lines,
            "",
        ]
    )


class _Process:
    binary = ""

    def __init__(self, workdir: Path, address: str, port: int) -> None:
        self.workdir, self.address, self.port = workdir, address, port
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        if shutil.which(self.binary) is None:
            raise RuntimeError(f"{self.binary} is not installed (apt-get install nsd unbound)")
        log = (self.workdir / "stderr.log").open("wb")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = (self.workdir / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"{self.binary} on {self.address}:{self.port} failed: {output}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class NsdServer(_Process):
    """One nsd serving ``zones`` (name -> zone text) on ``address:port``."""

    binary = "nsd"

    def __init__(self, workdir: Path, address: str, port: int, zones: Mapping[str, str]) -> None:
        super().__init__(workdir, address, port)
        self.zones = dict(zones)
        for name, text in self.zones.items():
            (workdir / f"{name}.zone").write_text(text)
        zone_blocks = "".join(
            f'zone:\n  name: "{name}"\n  zonefile: "{name}.zone"\n' for name in self.zones
        )
        (workdir / "nsd.conf").write_text(
            f"""server:
  ip-address: {address}
  port: {port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{workdir}"
  pidfile: "{workdir}/nsd.pid"
  database: ""
  zonelistfile: "{workdir}/zone.list"
  xfrdfile: "{workdir}/xfrd.state"
  xfrdir: "{workdir}"
  logfile: "{workdir}/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
  reuseport: no
  round-robin: no
remote-control:
  control-enable: no
{zone_blocks}"""
        )

    def command(self) -> list[str]:
        return ["nsd", "-d", "-c", str(self.workdir / "nsd.conf")]

    def ready(self) -> bool:
        return soa_serial(self.address, self.port, next(iter(self.zones))) is not None

    def set_zone(self, name: str, text: str, *, serial: int) -> None:
        """Replace a zone's file and reload (SIGHUP re-reads files whose mtime changed)."""
        path = self.workdir / f"{name}.zone"
        path.write_text(text)
        later = time.time() + 2
        os.utime(path, (later, later))
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while soa_serial(self.address, self.port, name) != serial:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nsd did not load serial {serial} of {name}")
            time.sleep(0.02)


class UnboundServer(_Process):
    """unbound on ``address:port``, sending each stub zone to the given ``addr@port`` list."""

    binary = "unbound"

    def __init__(
        self, workdir: Path, address: str, port: int, stubs: Mapping[str, Sequence[str]]
    ) -> None:
        super().__init__(workdir, address, port)
        self.probe_name = next(iter(stubs))
        stub_blocks = "".join(
            f'stub-zone:\n  name: "{zone}."\n' + "".join(f"  stub-addr: {addr}\n" for addr in addrs)
            for zone, addrs in stubs.items()
        )
        nodefault = "".join(
            f'  local-zone: "{zone}." nodefault\n' for zone in stubs if "." not in zone
        )
        (workdir / "unbound.conf").write_text(
            f"""server:
  interface: {address}
  port: {port}
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{workdir}"
  pidfile: "{workdir}/unbound.pid"
  logfile: ""
  use-syslog: no
  verbosity: 0
  num-threads: 1
  so-reuseport: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  qname-minimisation: no
  prefetch: no
  serve-expired: no
  cache-min-ttl: 0
  infra-host-ttl: 60
  rrset-roundrobin: no
{nodefault}remote-control:
  control-enable: no
{stub_blocks}"""
        )

    def command(self) -> list[str]:
        return ["unbound", "-d", "-c", str(self.workdir / "unbound.conf")]

    def ready(self) -> bool:
        query = dns.message.make_query(f"{self.probe_name}.", "SOA")
        try:
            response = dns.query.udp(query, self.address, port=self.port, timeout=0.3)
        except (dns.exception.Timeout, OSError):
            return False
        return response.rcode() == dns.rcode.NOERROR
