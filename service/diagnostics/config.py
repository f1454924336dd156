"""Plain configuration for diagnostics: who the provider is and how far probes go.

Built once at the edge from settings; the checks never see the settings object::

    config = DiagnosticsConfig.build(
        provider_nameserver_domains=["hosting.test"],
        provider_mail_hosts=["mail.hosting.test"],
        provider_mail_networks=["127.0.0.20/32"],
        resolvers=["127.0.0.53:5301"],
        budget_s=1.5,
    )
    config.dns_timeout_s   # 0.375: per server; config.dns_lifetime_s bounds a lookup
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import dns.resolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

STANDARD_SMTP_PORTS = (25, 465, 587)


class Server(NamedTuple):
    """An address literal and the port actually dialled."""

    address: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_server(text: str, *, default_port: int = 53) -> Server:
    """``"127.0.0.1:5353"``, ``"[::1]:53"``, ``"::1"`` or ``"9.9.9.9"`` as a ``Server``."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = int(rest.removeprefix(":"))
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    address = ipaddress.ip_address(host)  # resolvers are literals: no lookup at start-up
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return Server(str(address), port)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings as networks; a bare address is a single-host network."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def normalise_host(name: str) -> str:
    """Lower case, no trailing dot: the form host names are compared in."""
    return name.strip().rstrip(".").lower()


def system_resolvers() -> tuple[Server, ...]:
    """The resolvers in the system's resolv.conf (what ``dns_resolvers=[]`` means)."""
    try:
        nameservers = dns.resolver.Resolver().nameservers
    except dns.resolver.NoResolverConfiguration:
        return ()
    return tuple(parse_server(str(ns)) for ns in nameservers)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass(frozen=True)
class DiagnosticsConfig:
    """Everything the checks need, as plain values. Timeouts derive from the budget."""

    provider_nameserver_domains: tuple[str, ...] = ()
    provider_mail_hosts: tuple[str, ...] = ()
    provider_mail_networks: tuple[IPNetwork, ...] = ()
    resolvers: tuple[Server, ...] = ()
    authoritative_port: int = 53
    smtp_ports: Mapping[int, int] = field(
        default_factory=lambda: {p: p for p in STANDARD_SMTP_PORTS}
    )
    helo_name: str = "relaydesk.invalid"
    allowed_networks: tuple[IPNetwork, ...] = ()
    budget_s: float = 8.0
    cache_ttl_s: float = 60.0
    enabled: bool = True
    relay_probe_sender: str = "relaydesk-probe@relaydesk.invalid"
    relay_probe_recipient: str = "relaydesk-probe@example.com"
    cert_expiry_warn_days: int = 14

    @classmethod
    def build(
        cls,
        *,
        provider_nameserver_domains: Iterable[str] = (),
        provider_mail_hosts: Iterable[str] = (),
        provider_mail_networks: Iterable[str] = (),
        resolvers: Iterable[str] = (),
        allowed_networks: Iterable[str] = (),
        smtp_ports: Mapping[int, int] | None = None,
        authoritative_port: int = 53,
        helo_name: str = "relaydesk.invalid",
        budget_s: float = 8.0,
        cache_ttl_s: float = 60.0,
        enabled: bool = True,
    ) -> DiagnosticsConfig:
        """Parse strings as settings hold them; no resolvers means the system's."""
        servers = tuple(parse_server(r) for r in resolvers) or system_resolvers()
        ports = {p: p for p in STANDARD_SMTP_PORTS} | dict(smtp_ports or {})
        return cls(
            provider_nameserver_domains=tuple(
                normalise_host(d) for d in provider_nameserver_domains if d.strip()
            ),
            provider_mail_hosts=tuple(normalise_host(h) for h in provider_mail_hosts if h.strip()),
            provider_mail_networks=parse_networks(provider_mail_networks),
            resolvers=servers,
            authoritative_port=authoritative_port,
            smtp_ports=ports,
            helo_name=helo_name,
            allowed_networks=parse_networks(allowed_networks),
            budget_s=budget_s,
            cache_ttl_s=cache_ttl_s,
            enabled=enabled,
        )

    @property
    def dns_timeout_s(self) -> float:
        """How long one DNS server gets to answer one query."""
        return _clamp(self.budget_s * 0.25, 0.1, 2.0)

    @property
    def dns_lifetime_s(self) -> float:
        """How long one lookup may take across all the servers it tries."""
        return _clamp(self.budget_s * 0.5, 0.2, 5.0)

    @property
    def connect_timeout_s(self) -> float:
        """TCP connect plus (implicit) TLS handshake."""
        return _clamp(self.budget_s * 0.3, 0.1, 5.0)

    @property
    def read_timeout_s(self) -> float:
        """How long an SMTP server gets for each reply."""
        return _clamp(self.budget_s * 0.3, 0.1, 5.0)
