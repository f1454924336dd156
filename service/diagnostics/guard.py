"""What the probes may connect to: the domain is untrusted input, so guard it like SSRF.

Every address a probe would use (nameservers' included) is vetted here once, and the
probe then connects to the vetted literal, never to a name (no DNS rebinding)::

    guard = AddressGuard(allowed_networks=parse_networks(["127.0.0.0/8"]))
    guard.vet("203.0.113.9")   # raises AddressRefused: a documentation address
    guard.vet("127.0.0.20")    # IPv4Address('127.0.0.20'): exempt by the allow-list

``ipaddress.is_global`` alone is not enough (it calls ``64:ff9b::a00:1`` global, for
one), so the ranges are named explicitly, embedded IPv4 is unwrapped and vetted, and
``is_global`` is only the last word.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from service.diagnostics.config import IPAddress, IPNetwork
from service.errors import AddressRefused

ALLOWED_PORTS = frozenset({25, 53, 465, 587})

_V4_REFUSED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(cidr), why)
    for cidr, why in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private network address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private network address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private network address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

_V6_REFUSED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(cidr), why)
    for cidr, why in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a local NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo tunnel address"),
        ("2001:2::/48", "a benchmarking address"),
        ("2001:10::/28", "an ORCHID address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment-routing address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)

_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, str] | None:
    """The IPv4 address an IPv6 form carries, and the form's name, if it carries one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return IPv4Address(int(address) & 0xFFFFFFFF), "IPv4-compatible"
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be probed, or ``None`` if it is a public address."""
    if isinstance(address, IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            inner, form = embedded
            why = refusal_reason(inner)
            if why is not None:
                return f"{why} embedded in an IPv6 address ({form})"
            if form == "IPv4-compatible":
                return "a deprecated IPv4-compatible IPv6 address"
            if form == "NAT64":
                return None  # reaches the public IPv4 address it embeds
        table: Iterable[tuple[IPv4Network | IPv6Network, str]] = _V6_REFUSED
    else:
        table = _V4_REFUSED
    for network, why in table:
        if address in network:
            return why
    if not address.is_global:
        return "not a public internet address"
    return None


class AddressGuard:
    """Vets addresses and ports before any probe connects; allow-listed networks are exempt."""

    def __init__(self, allowed_networks: Iterable[IPNetwork] = ()) -> None:
        self._allowed = tuple(allowed_networks)

    def is_allowed(self, address: IPAddress) -> bool:
        """On the operator's allow-list (directly or as embedded IPv4)."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address):
            embedded = embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded[0])
        return any(c.version == n.version and c in n for c in candidates for n in self._allowed)

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why a probe may not connect to ``address``; ``None`` when it may."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return "not an IP address"
        if isinstance(ip, IPv6Address) and ip.scope_id:
            return "an IPv6 address with a zone index"
        if self.is_allowed(ip):
            return None
        return refusal_reason(ip)

    def vet(self, address: str | IPAddress) -> IPAddress:
        """The address as a literal safe to connect to; raises ``AddressRefused`` otherwise."""
        why = self.refusal(address)
        if why is not None:
            raise AddressRefused(f"{address} is {why}")
        return ipaddress.ip_address(address)

    @staticmethod
    def vet_port(port: int) -> int:
        """Only the standard DNS and mail ports may be probed."""
        if port not in ALLOWED_PORTS:
            raise AddressRefused(f"port {port} is not a DNS or mail port")
        return port
