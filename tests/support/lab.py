"""The whole loopback world for diagnostics: zones on two nsd, unbound, SMTP servers.

Addresses (all 127.0.0.0/8) and scenario domains are fixed; ports are picked free at
start. ``Lab.config()`` gives a ``DiagnosticsConfig`` aimed at it, and
``Lab.settings_values()`` the same as ``Settings`` keyword arguments.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.message
import dns.query

from service.diagnostics.config import DiagnosticsConfig

from .dnsservers import NsdServer, UnboundServer, zone_text
from .net import SilentServer, free_port
from .smtpd import RELAY_REFUSALS, SmtpServer, TestCA

NSD_A = "127.0.0.11"  # the primary: every zone, newest versions
NSD_B = "127.0.0.12"  # a secondary: most zones, split.test one serial behind
SILENT_NS = "127.0.0.13"  # ns3.hosting.test: reads queries, never answers
RESOLVER = "127.0.0.53"
MAIL = "127.0.0.1"  # the provider's mail server (mail.hosting.test)
SILENT_MAIL = "127.0.0.21"  # accepts on the 587 port and never speaks; 25 and 465 closed
ELSEWHERE = "127.0.0.30"  # someone else's server: nothing listens
OTHER_MX = "127.0.0.40"  # mx.other-provider.test

PROVIDER_NS = ("NS ns1.hosting.test.", "NS ns2.hosting.test.")
MX_OURS = "MX 10 mail.hosting.test."
MOVING_TTL = 300


@dataclass(frozen=True)
class Domains:
    healthy: str = "healthy.test"
    external: str = "external.test"
    mail_elsewhere: str = "mailelsewhere.test"
    split: str = "split.test"
    moving: str = "moving.test"
    missing: str = "nope.test"
    quiet: str = "quiet.test"
    private: str = "private.test"
    silent_mail: str = "silentmail.test"
    stalled: str = "stalled.test"  # a silent nameserver and a silent SMTP port at once


DOMAINS = Domains()
SPLIT_SERIALS = (2024060102, 2024060101)  # (nsd A, nsd B)


def _zones() -> dict[str, list[str]]:
    return {
        "test": ["NS ns1.hosting.test."],
        "hosting.test": [
            *PROVIDER_NS,
            MX_OURS,
            f"ns1 A {NSD_A}",
            f"ns2 A {NSD_B}",
            f"ns3 A {SILENT_NS}",
            f"mail A {MAIL}",
        ],
        "otherdns.test": ["NS ns1.otherdns.test.", f"ns1 A {NSD_A}", f"ns2 A {NSD_B}"],
        "other-provider.test": ["NS ns1.hosting.test.", f"mx A {OTHER_MX}", f"mail A {OTHER_MX}"],
        DOMAINS.healthy: [*PROVIDER_NS, MX_OURS, f"mail A {MAIL}"],
        DOMAINS.external: [
            "NS ns1.otherdns.test.",
            "NS ns2.otherdns.test.",
            "MX 10 mx.other-provider.test.",
            f"mail A {OTHER_MX}",
        ],
        DOMAINS.mail_elsewhere: [*PROVIDER_NS, MX_OURS, f"mail A {ELSEWHERE}"],
        DOMAINS.split: [*PROVIDER_NS, MX_OURS, f"mail A {MAIL}"],
        DOMAINS.quiet: ["NS ns1.hosting.test.", "NS ns3.hosting.test.", MX_OURS, f"mail A {MAIL}"],
        DOMAINS.private: [
            "NS ns1.hosting.test.",
            "NS ns.private.test.",
            "ns A 169.254.169.254",
            "MX 10 loop.private.test.",
            "MX 20 lan.private.test.",
            "MX 30 meta.private.test.",
            "loop A 127.0.0.1",
            "lan A 10.0.0.1",
            "meta A 169.254.169.254",
            "mail A 127.0.0.1",
            "mail A 10.0.0.1",
        ],
        DOMAINS.silent_mail: [*PROVIDER_NS, MX_OURS, f"mail A {SILENT_MAIL}"],
        DOMAINS.stalled: [
            "NS ns1.hosting.test.",
            "NS ns3.hosting.test.",
            MX_OURS,
            f"mail A {SILENT_MAIL}",
        ],
    }


def moving_zone(serial: int, *, moved: bool) -> str:
    """moving.test before (MX at another provider) and after (MX at ours) the change."""
    mx = MX_OURS if moved else "MX 10 mx.other-provider.test."
    return zone_text(
        DOMAINS.moving,
        serial,
        ["NS ns1.hosting.test.", f"{MOVING_TTL} {mx}", "mail CNAME mail.hosting.test."],
    )


@dataclass
class Lab:
    workdir: Path
    dns_port: int
    resolver_port: int
    smtp_ports: dict[int, int]
    ca: TestCA
    nsd_a: NsdServer
    nsd_b: NsdServer
    resolver: UnboundServer
    mail_servers: dict[int, SmtpServer]
    silent_ns: SilentServer
    silent_mail: SilentServer
    domains: Domains = DOMAINS
    _serials: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(100))

    @classmethod
    @contextmanager
    def running(cls, workdir: Path) -> Iterator[Lab]:
        """Start everything; stop everything on exit, whatever happened."""
        with ExitStack() as stack:
            dns_port = free_port([NSD_A, NSD_B, SILENT_NS])
            resolver_port = free_port([RESOLVER])
            smtp = {
                std: free_port([MAIL, SILENT_MAIL, ELSEWHERE], udp=False) for std in (25, 465, 587)
            }
            zones = _zones()
            texts_a = {
                z: zone_text(z, SPLIT_SERIALS[0] if z == DOMAINS.split else 1, r)
                for z, r in zones.items()
            }
            texts_a[DOMAINS.moving] = moving_zone(1, moved=False)
            texts_b = {
                z: zone_text(z, SPLIT_SERIALS[1] if z == DOMAINS.split else 1, r)
                for z, r in zones.items()
            }
            nsd_a = NsdServer(workdir / "nsd-a", NSD_A, dns_port, texts_a)
            nsd_b = NsdServer(workdir / "nsd-b", NSD_B, dns_port, texts_b)
            for server in (nsd_a, nsd_b):
                server.start()
                stack.callback(server.stop)
            silent_ns = stack.enter_context(SilentServer(SILENT_NS, dns_port, udp=True))
            stubs = {z: [f"{NSD_A}@{dns_port}"] for z in [*zones, DOMAINS.moving]}
            resolver = UnboundServer(workdir / "unbound", RESOLVER, resolver_port, stubs)
            resolver.start()
            stack.callback(resolver.stop)
            ca = TestCA.create(workdir)
            names = ["mail.hosting.test", *(f"mail.{d}" for d in dataclasses.astuple(DOMAINS))]
            servers = {
                25: SmtpServer.start_on(
                    MAIL, smtp[25], tls=ca.server_context(*names), rcpt_reply=RELAY_REFUSALS["exim"]
                ),
                587: SmtpServer.start_on(
                    MAIL,
                    smtp[587],
                    tls=ca.server_context(*names),
                    rcpt_reply=RELAY_REFUSALS["exim"],
                ),
                465: SmtpServer.start_on(
                    MAIL,
                    smtp[465],
                    implicit=ca.server_context(*names),
                    rcpt_reply=RELAY_REFUSALS["exim"],
                ),
            }
            for server in servers.values():
                stack.callback(server.stop)
            silent_mail = stack.enter_context(SilentServer(SILENT_MAIL, smtp[587]))
            yield cls(
                workdir,
                dns_port,
                resolver_port,
                smtp,
                ca,
                nsd_a,
                nsd_b,
                resolver,
                servers,
                silent_ns,
                silent_mail,
            )

    def settings_values(self, **overrides: Any) -> dict[str, Any]:
        """``Settings`` keyword arguments aimed at the lab (short budget, 127/8 allowed)."""
        values: dict[str, Any] = {
            "provider_nameserver_domains": ["hosting.test"],
            "provider_mail_hosts": ["mail.hosting.test"],
            "provider_mail_networks": [f"{MAIL}/32"],
            "dns_resolvers": [f"{RESOLVER}:{self.resolver_port}"],
            "dns_authoritative_port": self.dns_port,
            "smtp_port_map": ",".join(f"{k}={v}" for k, v in self.smtp_ports.items()),
            "smtp_helo_name": "relaydesk.test",
            "diagnostics_allowed_networks": ["127.0.0.0/8"],
            "diagnostics_budget_s": 1.5,
            "diagnostics_cache_ttl_s": 60.0,
        }
        return values | overrides

    def config(self, **overrides: Any) -> DiagnosticsConfig:
        """A ``DiagnosticsConfig`` aimed at the lab; ``overrides`` replace fields after parsing."""
        config = DiagnosticsConfig.build(
            provider_nameserver_domains=["hosting.test"],
            provider_mail_hosts=["mail.hosting.test"],
            provider_mail_networks=[f"{MAIL}/32"],
            resolvers=[f"{RESOLVER}:{self.resolver_port}"],
            authoritative_port=self.dns_port,
            smtp_ports=self.smtp_ports,
            helo_name="relaydesk.test",
            allowed_networks=["127.0.0.0/8"],
            budget_s=1.5,
        )
        return dataclasses.replace(config, **overrides)

    def move_mx(self) -> int:
        """Serve the old MX, let the resolver cache it, then change it: returns the new serial."""
        old, new = next(self._serials), next(self._serials)
        self.nsd_a.set_zone(DOMAINS.moving, moving_zone(old, moved=False), serial=old)
        query = dns.message.make_query(DOMAINS.moving, "MX")
        dns.query.udp(query, RESOLVER, port=self.resolver_port, timeout=2)
        self.nsd_a.set_zone(DOMAINS.moving, moving_zone(new, moved=True), serial=new)
        return new
