"""DNS adapter: one query to one server, with a per-server timeout and a lookup lifetime.

Only our own errors leave this module (``DiagnosticTimeout``, ``ProbeFailed``); a
negative answer (NXDOMAIN, SERVFAIL, REFUSED) is data, returned as ``DnsAnswer.rcode``::

    client = DnsClient(resolvers=[Server("127.0.0.53", 5301)], authoritative_port=5300,
                       timeout_s=0.4, lifetime_s=0.8)
    answer = await client.resolve("example.test", RdType.MX)
    answer.mx()        # [(10, "mx.example.test")]
    answer.ttl         # the resolver's remaining TTL for a cached answer
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from service.diagnostics.config import Server
from service.errors import DiagnosticError, DiagnosticTimeout, ProbeFailed

EDNS_PAYLOAD = 1232


class RdType(StrEnum):
    """The record types the checks ask for."""

    A = "A"
    AAAA = "AAAA"
    MX = "MX"
    NS = "NS"
    SOA = "SOA"


class Rcode(StrEnum):
    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"
    SERVFAIL = "SERVFAIL"
    REFUSED = "REFUSED"
    OTHER = "OTHER"


@dataclass(frozen=True)
class DnsAnswer:
    """One server's answer to one question, as plain values."""

    server: Server
    name: str
    rdtype: RdType
    rcode: Rcode
    records: tuple[Any, ...]  # dnspython rdata; read through the helpers below
    ttl: int | None
    authoritative: bool
    canonical_name: str  # the end of any CNAME chain, else the name asked

    @property
    def ok(self) -> bool:
        """A definite answer (records or none): NOERROR or NXDOMAIN."""
        return self.rcode in (Rcode.NOERROR, Rcode.NXDOMAIN)

    def mx(self) -> list[tuple[int, str]]:
        """``(preference, host)`` pairs, lowest preference first."""
        pairs = [(int(r.preference), _host(r.exchange)) for r in self.records]
        return sorted(pairs)

    def hosts(self) -> list[str]:
        """NS target host names, sorted."""
        return sorted(_host(r.target) for r in self.records)

    def addresses(self) -> list[str]:
        """A/AAAA addresses as text, in answer order."""
        return [r.address for r in self.records]

    def soa_serial(self) -> int | None:
        return int(self.records[0].serial) if self.records else None


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _rcode(value: int) -> Rcode:
    text = dns.rcode.to_text(dns.rcode.Rcode(value))
    return Rcode(text) if text in Rcode.__members__ else Rcode.OTHER


def _parse(server: Server, name: str, rdtype: RdType, response: dns.message.Message) -> DnsAnswer:
    qname = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rdtype.value)
    current = qname
    records: tuple[Any, ...] = ()
    ttl: int | None = None
    for _ in range(8):  # follow a CNAME chain inside the answer section, bounded
        rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, wanted)
        if rrset is not None:
            records, ttl = tuple(rrset), rrset.ttl
            break
        cname = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None:
            break
        current = cname[0].target
    return DnsAnswer(
        server=server,
        name=name,
        rdtype=rdtype,
        rcode=_rcode(response.rcode()),
        records=records,
        ttl=ttl,
        authoritative=bool(response.flags & dns.flags.AA),
        canonical_name=_host(current),
    )


async def query(
    server: Server, name: str, rdtype: RdType, *, recursion: bool, timeout_s: float
) -> DnsAnswer:
    """Ask one server one question; UDP, falling back to TCP on truncation."""
    message = dns.message.make_query(name, rdtype.value, use_edns=0, payload=EDNS_PAYLOAD)
    if not recursion:
        message.flags &= ~dns.flags.RD
    try:
        async with asyncio.timeout(timeout_s):
            response, _ = await dns.asyncquery.udp_with_fallback(
                message, server.address, timeout=timeout_s, port=server.port
            )
    except (TimeoutError, dns.exception.Timeout) as exc:
        raise DiagnosticTimeout(f"{server} did not answer in {timeout_s:g}s") from exc
    except (OSError, dns.exception.DNSException) as exc:
        raise ProbeFailed(f"{server} could not be asked: {exc}") from exc
    return _parse(server, name, rdtype, response)


async def first_answer(
    servers: Sequence[Server],
    name: str,
    rdtype: RdType,
    *,
    recursion: bool,
    timeout_s: float,
    lifetime_s: float,
    hedge_s: float | None = None,
) -> DnsAnswer:
    """Ask the servers in order, starting the next one whenever ``hedge_s`` passes (or the
    current one fails) without a definite answer; the first definite answer wins and the
    rest are cancelled.

    A SERVFAIL or REFUSED answer is returned only if no server gives a definite one.
    """
    if not servers:
        raise ProbeFailed("no DNS server to ask")
    if len(servers) == 1:  # nothing to race: skip the bookkeeping
        try:
            async with asyncio.timeout(lifetime_s):
                return await query(
                    servers[0], name, rdtype, recursion=recursion, timeout_s=timeout_s
                )
        except TimeoutError as exc:
            raise DiagnosticTimeout(f"no answer for {name} {rdtype} in {lifetime_s:g}s") from exc
    hedge = hedge_s if hedge_s is not None else timeout_s / 4
    waiting = list(servers)
    running: set[asyncio.Task[DnsAnswer]] = set()
    fallback: DnsAnswer | None = None
    error: DiagnosticError | None = None
    try:
        async with asyncio.timeout(lifetime_s):
            while waiting or running:
                if waiting:
                    server = waiting.pop(0)
                    running.add(
                        asyncio.create_task(
                            query(server, name, rdtype, recursion=recursion, timeout_s=timeout_s)
                        )
                    )
                done, running = await asyncio.wait(
                    running,
                    timeout=hedge if waiting else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done:
                    try:
                        answer = task.result()
                    except DiagnosticError as exc:
                        error = exc
                        continue
                    if answer.ok:
                        return answer
                    fallback = fallback or answer
    except TimeoutError as exc:
        if fallback is None:
            raise DiagnosticTimeout(f"no answer for {name} {rdtype} in {lifetime_s:g}s") from exc
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
    if fallback is not None:
        return fallback
    assert error is not None
    raise error


class DnsClient:
    """The recursive resolvers and the authoritative port, with both timeouts."""

    def __init__(
        self,
        *,
        resolvers: Sequence[Server],
        authoritative_port: int,
        timeout_s: float,
        lifetime_s: float,
    ) -> None:
        self.resolvers = tuple(resolvers)
        self.authoritative_port = authoritative_port
        self.timeout_s = timeout_s
        self.lifetime_s = lifetime_s

    async def resolve(self, name: str, rdtype: RdType) -> DnsAnswer:
        """Ask the recursive resolvers (all at once, first definite answer wins)."""
        return await first_answer(
            self.resolvers,
            name,
            rdtype,
            recursion=True,
            timeout_s=self.timeout_s,
            lifetime_s=self.lifetime_s,
        )

    async def ask_authoritative(
        self, addresses: Sequence[str], name: str, rdtype: RdType
    ) -> DnsAnswer:
        """Ask vetted nameserver addresses directly, without recursion."""
        servers = [Server(a, self.authoritative_port) for a in addresses]
        return await first_answer(
            servers,
            name,
            rdtype,
            recursion=False,
            timeout_s=self.timeout_s,
            lifetime_s=self.lifetime_s,
        )

    def server(self, address: str) -> Server:
        """A vetted nameserver address at the authoritative port."""
        return Server(address, self.authoritative_port)

    async def ask_one(
        self, server: Server, name: str, rdtype: RdType, *, recursion: bool
    ) -> DnsAnswer:
        """Ask exactly one server (per-server timeout only)."""
        return await query(server, name, rdtype, recursion=recursion, timeout_s=self.timeout_s)
