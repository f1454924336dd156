"""The lookups several checks share, each done once per diagnosis and vetted on the way.

Checks run concurrently and ask for the same facts (the nameserver set, the MX
answer, ``mail.<domain>``); the first asker starts the lookup and the rest await it::

    lookups = Lookups(domain, config=config, dns=client, guard=guard)
    ns = await lookups.nameservers()     # NS hosts, their vetted and refused addresses
    mx = await lookups.authoritative(domain, RdType.MX)
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.diagnostics.config import DiagnosticsConfig, IPAddress, normalise_host
from service.diagnostics.dns import DnsAnswer, DnsClient, Rcode, RdType
from service.diagnostics.guard import AddressGuard
from service.errors import DiagnosticError

MAX_NAMESERVERS = 4
MAX_MX_HOSTS = 5
MAX_ADDRESSES = 2

T = TypeVar("T")


@dataclass(frozen=True)
class HostAddresses:
    """A host's addresses (at most two), split into those we may and may not contact."""

    host: str
    addresses: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()  # (address, why)
    rcode: Rcode = Rcode.NOERROR
    canonical_name: str = ""
    error: str | None = None

    @property
    def vetted(self) -> tuple[str, ...]:
        refused = {a for a, _ in self.refused}
        return tuple(a for a in self.addresses if a not in refused)


@dataclass(frozen=True)
class NameserverSet:
    rcode: Rcode
    hosts: tuple[HostAddresses, ...] = ()
    total: int = 0  # before the cap of MAX_NAMESERVERS
    ttl: int | None = None

    @property
    def vetted_addresses(self) -> list[str]:
        return [a for h in self.hosts for a in h.vetted]


@dataclass(frozen=True)
class Sourced:
    """An answer and where it came from: the domain's own nameservers, or a resolver."""

    answer: DnsAnswer
    authoritative: bool


def in_networks(address: str, networks: tuple[Any, ...]) -> bool:
    ip: IPAddress = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in networks)


def is_provider_nameserver(host: str, provider_domains: tuple[str, ...]) -> bool:
    """Label-boundary match: ``ns1.hosting.test`` is ours, ``nothosting.test`` is not."""
    host = normalise_host(host)
    return any(host == d or host.endswith("." + d) for d in provider_domains)


@dataclass
class Lookups:
    """Memoised, shielded lookups for one diagnosis of one domain."""

    domain: str
    config: DiagnosticsConfig
    dns: DnsClient
    guard: AddressGuard
    _tasks: dict[Hashable, asyncio.Task[Any]] = field(default_factory=dict)

    async def _once(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None:

            async def run() -> T:
                return await make()

            task = self._tasks[key] = asyncio.create_task(run())
        # shield: one check timing out must not cancel a lookup others still await
        result: T = await asyncio.shield(task)
        return result

    async def aclose(self) -> None:
        """Cancel lookups nobody waited for to the end, and reap them."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _vet(self, host: str, addresses: list[str], **extra: Any) -> HostAddresses:
        capped = tuple(addresses[:MAX_ADDRESSES])
        refused = tuple((a, why) for a in capped if (why := self.guard.refusal(a)) is not None)
        return HostAddresses(host, capped, refused, **extra)

    async def resolve_host(self, host: str) -> HostAddresses:
        """A and AAAA through the resolvers (IPv4 first), capped and vetted."""
        return await self._once(("resolve", host), lambda: self._resolve_host(host))

    async def _resolve_host(self, host: str) -> HostAddresses:
        v4, v6 = await asyncio.gather(
            self.dns.resolve(host, RdType.A),
            self.dns.resolve(host, RdType.AAAA),
            return_exceptions=True,
        )
        addresses: list[str] = []
        error = None
        for result in (v4, v6):
            if isinstance(result, DnsAnswer):
                addresses += result.addresses()
            elif isinstance(result, DiagnosticError):
                error = result.message
            elif isinstance(result, BaseException):
                raise result
        rcode = v4.rcode if isinstance(v4, DnsAnswer) else Rcode.NOERROR
        if not addresses and error is not None:
            return HostAddresses(host, (), error=error)
        return self._vet(host, addresses, rcode=rcode)

    async def nameservers(self) -> NameserverSet:
        """The domain's NS set through the resolvers; at most four hosts, vetted."""
        return await self._once("ns", self._nameservers)

    async def _nameservers(self) -> NameserverSet:
        answer = await self.dns.resolve(self.domain, RdType.NS)
        if answer.rcode != Rcode.NOERROR:
            return NameserverSet(answer.rcode)
        names = answer.hosts()
        hosts = await asyncio.gather(*(self.resolve_host(h) for h in names[:MAX_NAMESERVERS]))
        return NameserverSet(Rcode.NOERROR, tuple(hosts), len(names), answer.ttl)

    async def authoritative(self, name: str, rdtype: RdType) -> Sourced:
        """Ask the domain's own (vetted) nameservers; a resolver only if none may be asked."""
        return await self._once(("auth", name, rdtype), lambda: self._authoritative(name, rdtype))

    async def _authoritative(self, name: str, rdtype: RdType) -> Sourced:
        ns = await self.nameservers()
        addresses = ns.vetted_addresses
        if addresses:
            return Sourced(await self.dns.ask_authoritative(addresses, name, rdtype), True)
        return Sourced(await self.dns.resolve(name, rdtype), False)

    async def mail_target(self) -> MailTarget:
        """``mail.<domain>``, or our first mail host when that name does not exist."""
        return await self._once("mail_target", lambda: _mail_target(self))

    async def host_addresses(self, host: str) -> tuple[HostAddresses, bool]:
        """A host in this domain, asked authoritatively; a CNAME out of it is resolved."""
        return await self._once(("host", host), lambda: self._host_addresses(host))

    async def _host_addresses(self, host: str) -> tuple[HostAddresses, bool]:
        v4, v6 = await asyncio.gather(
            self.authoritative(host, RdType.A), self.authoritative(host, RdType.AAAA)
        )
        addresses = v4.answer.addresses() + v6.answer.addresses()
        canonical = v4.answer.canonical_name
        if not addresses and canonical != normalise_host(host):
            resolved = await self.resolve_host(canonical)
            return self._vet(host, list(resolved.addresses), canonical_name=canonical), False
        return (
            self._vet(host, addresses, rcode=v4.answer.rcode, canonical_name=canonical),
            v4.authoritative,
        )


@dataclass(frozen=True)
class MailTarget:
    """The server the customer's mail program should use, and whether it is ours."""

    host: str
    addresses: HostAddresses
    provider: bool
    fallback: bool  # mail.<domain> did not resolve; we test our own server instead


def is_provider_mail(config: DiagnosticsConfig, host: str, addresses: tuple[str, ...]) -> bool:
    """A provider host name, or addresses all inside the provider's mail networks."""
    if normalise_host(host) in config.provider_mail_hosts:
        return True
    networks = config.provider_mail_networks
    return bool(addresses) and all(in_networks(a, networks) for a in addresses)


async def _mail_target(lookups: Lookups) -> MailTarget:
    host = f"mail.{lookups.domain}"
    found, _ = await lookups.host_addresses(host)
    if found.addresses:
        name = found.canonical_name or host
        provider = is_provider_mail(lookups.config, name, found.addresses)
        return MailTarget(host, found, provider, fallback=False)
    for provider_host in lookups.config.provider_mail_hosts[:1]:
        ours = await lookups.resolve_host(provider_host)
        return MailTarget(provider_host, ours, provider=True, fallback=True)
    return MailTarget(host, found, provider=False, fallback=False)
