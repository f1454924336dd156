"""The DNS checks: domain, nameservers, mx, mail_host, soa_serials, propagation.

Each is ``async (CheckContext) -> CheckResult``; a ``DiagnosticError`` escaping a check
becomes status ``error`` in the runner. Decisions that need no network (RFC 1982
serial order, comparing answers) are plain functions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from service.diagnostics.config import normalise_host
from service.diagnostics.context import CheckContext, plural, result, wait_in_words
from service.diagnostics.dns import DnsAnswer, Rcode, RdType
from service.diagnostics.lookups import (
    MAX_MX_HOSTS,
    HostAddresses,
    is_provider_mail,
    is_provider_nameserver,
)
from service.diagnostics.models import CheckId, CheckResult, CheckStatus
from service.errors import DiagnosticError

SERIAL_BITS = 32
_HALF = 2 ** (SERIAL_BITS - 1)


def serial_compare(a: int, b: int) -> int | None:
    """RFC 1982 order of SOA serials: -1, 0, 1, or ``None`` when undefined (2**31 apart)."""
    if a == b:
        return 0
    diff = (b - a) % 2**SERIAL_BITS
    if diff == _HALF:
        return None
    return -1 if diff < _HALF else 1


def newest_serial(serials: list[int]) -> int:
    """The serial no other is newer than, in serial-number arithmetic."""
    newest = serials[0]
    for serial in serials[1:]:
        if serial_compare(serial, newest) == 1:
            newest = serial
    return newest


async def gone(ctx: CheckContext, check_id: CheckId) -> CheckResult | None:
    """Skip a check when the domain does not exist (the domain check reports that)."""
    ns = await ctx.lookups.nameservers()
    if ns.rcode == Rcode.NXDOMAIN:
        return result(check_id, CheckStatus.SKIPPED, f"{ctx.domain} does not exist in DNS.")
    return None


async def check_domain(ctx: CheckContext) -> CheckResult:
    ns = await ctx.lookups.nameservers()
    if ns.rcode == Rcode.NXDOMAIN:
        return result(
            CheckId.DOMAIN,
            CheckStatus.FAIL,
            f"{ctx.domain} does not exist in DNS. Please check the spelling, "
            "or whether the domain's registration has lapsed.",
            rcode=ns.rcode.value,
        )
    if ns.rcode != Rcode.NOERROR:
        return result(
            CheckId.DOMAIN,
            CheckStatus.ERROR,
            f"DNS lookups for {ctx.domain} are failing right now ({ns.rcode.value}).",
            rcode=ns.rcode.value,
        )
    return result(CheckId.DOMAIN, CheckStatus.PASS, f"{ctx.domain} exists in DNS.", rcode="NOERROR")


def _host_data(host: HostAddresses, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"host": host.host, "addresses": list(host.addresses)}
    if host.refused:
        data["refused"] = [{"address": a, "reason": why} for a, why in host.refused]
    if host.error:
        data["error"] = host.error
    return data | extra


async def check_nameservers(ctx: CheckContext) -> CheckResult:
    if (skipped := await gone(ctx, CheckId.NAMESERVERS)) is not None:
        return skipped
    ns = await ctx.lookups.nameservers()
    domains = ctx.config.provider_nameserver_domains
    hosts = [_host_data(h, provider=is_provider_nameserver(h.host, domains)) for h in ns.hosts]
    data: dict[str, Any] = {"nameservers": hosts, "total": ns.total}
    if ns.rcode != Rcode.NOERROR:
        return result(
            CheckId.NAMESERVERS,
            CheckStatus.ERROR,
            f"We could not look up the nameservers of {ctx.domain} ({ns.rcode.value}).",
            **data,
        )
    if not hosts:
        return result(
            CheckId.NAMESERVERS,
            CheckStatus.FAIL,
            f"{ctx.domain} has no nameservers of its own.",
            **data,
        )
    ours = [h["host"] for h in hosts if h["provider"]]
    theirs = [h["host"] for h in hosts if not h["provider"]]
    if not theirs:
        return result(
            CheckId.NAMESERVERS,
            CheckStatus.PASS,
            f"{ctx.domain} uses our nameservers ({', '.join(ours)}).",
            **data,
        )
    if not ours:
        return result(
            CheckId.NAMESERVERS,
            CheckStatus.FAIL,
            f"The DNS for {ctx.domain} is run elsewhere ({', '.join(theirs)}), not on our "
            "nameservers, so DNS changes have to be made with that provider.",
            **data,
        )
    return result(
        CheckId.NAMESERVERS,
        CheckStatus.WARN,
        f"{ctx.domain} mixes our nameservers with others ({', '.join(theirs)}); "
        "they may give different answers.",
        **data,
    )


async def _mx_host(ctx: CheckContext, host: str) -> HostAddresses:
    """Our own mail hosts are ours by name; only other hosts need their addresses."""
    if normalise_host(host) in ctx.config.provider_mail_hosts:
        return HostAddresses(host, ())
    return await ctx.lookups.resolve_host(host)


async def check_mx(ctx: CheckContext) -> CheckResult:
    if (skipped := await gone(ctx, CheckId.MX)) is not None:
        return skipped
    sourced = await ctx.lookups.authoritative(ctx.domain, RdType.MX)
    answer = sourced.answer
    if answer.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN):
        return result(
            CheckId.MX,
            CheckStatus.ERROR,
            f"The nameservers of {ctx.domain} would not tell us its MX records "
            f"({answer.rcode.value}).",
            rcode=answer.rcode.value,
        )
    pairs = answer.mx()
    base = {"authoritative": sourced.authoritative, "ttl": answer.ttl, "total": len(pairs)}
    if not pairs:
        return result(
            CheckId.MX,
            CheckStatus.FAIL,
            f"{ctx.domain} has no MX record, so no mail server is named to receive its mail.",
            records=[],
            **base,
        )
    if pairs == [(0, "")]:
        return result(
            CheckId.MX,
            CheckStatus.FAIL,
            f"{ctx.domain} says it receives no mail at all (a 'null MX' record).",
            records=[],
            **base,
        )
    pairs = pairs[:MAX_MX_HOSTS]
    found = await asyncio.gather(*(_mx_host(ctx, host) for _, host in pairs))
    records = []
    for (preference, host), addresses in zip(pairs, found, strict=True):
        provider = is_provider_mail(ctx.config, host, addresses.addresses)
        records.append(_host_data(addresses, preference=preference, provider=provider))
    ours = [r["host"] for r in records if r["provider"]]
    theirs = [r["host"] for r in records if not r["provider"]]
    if not theirs:
        return result(
            CheckId.MX,
            CheckStatus.PASS,
            f"Mail for {ctx.domain} goes to our mail servers ({', '.join(ours)}).",
            records=records,
            **base,
        )
    if not ours:
        return result(
            CheckId.MX,
            CheckStatus.FAIL,
            f"MX points at {', '.join(theirs)}, not at our mail servers, so mail for "
            f"{ctx.domain} is handled by another provider.",
            records=records,
            **base,
        )
    return result(
        CheckId.MX,
        CheckStatus.WARN,
        f"MX points at both our mail servers and {', '.join(theirs)}; some mail for "
        f"{ctx.domain} goes elsewhere.",
        records=records,
        **base,
    )


async def check_mail_host(ctx: CheckContext) -> CheckResult:
    if (skipped := await gone(ctx, CheckId.MAIL_HOST)) is not None:
        return skipped
    host = f"mail.{ctx.domain}"
    found, authoritative = await ctx.lookups.host_addresses(host)
    data = _host_data(found, authoritative=authoritative, canonical_name=found.canonical_name)
    if found.error is not None and not found.addresses:
        return result(CheckId.MAIL_HOST, CheckStatus.ERROR, f"We could not look up {host}.", **data)
    if not found.addresses:
        return result(
            CheckId.MAIL_HOST,
            CheckStatus.FAIL,
            f"{host} does not exist, so a mail program set to send through it cannot connect.",
            **data,
        )
    shown = ", ".join(found.addresses)
    if is_provider_mail(ctx.config, found.canonical_name or host, found.addresses):
        return result(
            CheckId.MAIL_HOST,
            CheckStatus.PASS,
            f"{host} points at our mail servers ({shown}).",
            provider=True,
            **data,
        )
    private = "".join(f" ({a} is {why}.)" for a, why in found.refused)
    return result(
        CheckId.MAIL_HOST,
        CheckStatus.FAIL,
        f"{host} points at {shown}, which is not one of our mail servers, so mail sent "
        f"through it does not reach us.{private}",
        provider=False,
        **data,
    )


async def _serial_of(ctx: CheckContext, host: str, address: str) -> dict[str, Any]:
    server = ctx.dns.server(address)
    entry: dict[str, Any] = {"nameserver": host, "address": address}
    try:
        answer = await ctx.dns.ask_one(server, ctx.domain, RdType.SOA, recursion=False)
    except DiagnosticError as exc:
        return entry | {"serial": None, "error": exc.message}
    if not answer.authoritative or answer.soa_serial() is None:
        return entry | {"serial": None, "error": f"does not serve {ctx.domain} ({answer.rcode})"}
    return entry | {"serial": answer.soa_serial()}


async def check_soa_serials(ctx: CheckContext) -> CheckResult:
    if (skipped := await gone(ctx, CheckId.SOA_SERIALS)) is not None:
        return skipped
    ns = await ctx.lookups.nameservers()
    asks = [(h.host, a) for h in ns.hosts for a in h.vetted]
    refused = [
        {"nameserver": h.host, "address": a, "reason": why}
        for h in ns.hosts
        for a, why in h.refused
    ]
    if not asks:
        why = (
            "we do not contact nameservers at private addresses"
            if refused
            else ("no nameserver address was found")
        )
        return result(
            CheckId.SOA_SERIALS,
            CheckStatus.ERROR,
            f"We could not ask the nameservers of {ctx.domain} directly: {why}.",
            servers=[],
            refused=refused,
        )
    servers = list(await asyncio.gather(*(_serial_of(ctx, h, a) for h, a in asks)))
    serials = [s["serial"] for s in servers if s["serial"] is not None]
    data: dict[str, Any] = {"servers": servers, "refused": refused}
    if not serials:
        return result(
            CheckId.SOA_SERIALS,
            CheckStatus.ERROR,
            f"None of the nameservers of {ctx.domain} answered for it.",
            **data,
        )
    newest = newest_serial(serials)
    behind = sorted(
        {s["nameserver"] for s in servers if s["serial"] is not None and s["serial"] != newest}
    )
    silent = sorted({s["nameserver"] for s in servers if s["serial"] is None})
    data |= {"newest": newest, "behind": behind, "silent": silent}
    if behind:
        return result(
            CheckId.SOA_SERIALS,
            CheckStatus.WARN,
            f"Your nameservers disagree: {', '.join(behind)} still "
            f"{'has' if len(behind) == 1 else 'have'} an older version of your DNS "
            f"(newest serial {newest}). A recent change has not reached every nameserver yet.",
            **data,
        )
    if silent:
        return result(
            CheckId.SOA_SERIALS,
            CheckStatus.WARN,
            f"{', '.join(silent)} did not answer; the other nameservers agree (serial {newest}).",
            **data,
        )
    return result(
        CheckId.SOA_SERIALS,
        CheckStatus.PASS,
        f"All {plural(len(servers), 'nameserver address')} have the same version of your DNS "
        f"(serial {newest}).",
        **data,
    )


def _values(answer: DnsAnswer, cname: bool) -> list[str]:
    if cname:  # the name is an alias out of the zone: compare where it points
        return [f"alias of {answer.canonical_name}"]
    if answer.rdtype == RdType.MX:
        return [f"{pref} {host}" for pref, host in answer.mx()]
    return sorted(answer.addresses())


async def _compare(ctx: CheckContext, name: str, rdtype: RdType) -> list[dict[str, Any]]:
    truth = (await ctx.lookups.authoritative(name, rdtype)).answer
    cname = truth.canonical_name != name and not truth.records
    expected = _values(truth, cname)
    rows = []
    for resolver, seen in zip(
        ctx.dns.resolvers,
        await asyncio.gather(
            *(ctx.dns.ask_one(r, name, rdtype, recursion=True) for r in ctx.dns.resolvers),
            return_exceptions=True,
        ),
        strict=True,
    ):
        row: dict[str, Any] = {
            "resolver": str(resolver),
            "name": name,
            "type": rdtype.value,
            "authoritative": expected,
        }
        if isinstance(seen, DiagnosticError):
            rows.append(row | {"error": seen.message})
        elif isinstance(seen, DnsAnswer):
            values = _values(seen, cname)
            rows.append(row | {"seen": values, "ttl": seen.ttl, "stale": values != expected})
        else:
            raise seen
    return rows


async def check_propagation(ctx: CheckContext) -> CheckResult:
    if (skipped := await gone(ctx, CheckId.PROPAGATION)) is not None:
        return skipped
    ns = await ctx.lookups.nameservers()
    if not ns.vetted_addresses:
        return result(
            CheckId.PROPAGATION,
            CheckStatus.ERROR,
            "We could not ask your nameservers directly, so we cannot tell whether resolvers "
            "have caught up.",
        )
    mail = f"mail.{ctx.domain}"
    tables = await asyncio.gather(
        _compare(ctx, ctx.domain, RdType.MX),
        _compare(ctx, mail, RdType.A),
        _compare(ctx, mail, RdType.AAAA),
    )
    rows = [row for table in tables for row in table]
    stale = [r for r in rows if r.get("stale")]
    answered = [r for r in rows if "seen" in r]
    if stale:
        wait_s = max(int(r["ttl"] or 0) for r in stale)
        what = " and ".join(sorted({"the MX record" if r["type"] == "MX" else mail for r in stale}))
        return result(
            CheckId.PROPAGATION,
            CheckStatus.WARN,
            f"Your DNS change has not reached every resolver yet: {what} is still cached with "
            f"the old value. It will update by itself within {wait_in_words(wait_s)}.",
            resolvers=rows,
            wait_s=wait_s,
        )
    if not answered:
        return result(
            CheckId.PROPAGATION,
            CheckStatus.ERROR,
            "The DNS resolvers we use did not answer, so we cannot tell whether your changes "
            "have spread.",
            resolvers=rows,
        )
    return result(
        CheckId.PROPAGATION,
        CheckStatus.PASS,
        "The resolvers we checked already see your current DNS records.",
        resolvers=rows,
        wait_s=0,
    )
