"""The Diagnostician: every check at once under one time budget, cached per domain.

    diagnostician = Diagnostician(config)
    diagnosis = await diagnostician.run("example.com")   # InvalidDomain for bad input
    diagnosis.causes[0].intent                            # e.g. "relay.external_dns"

Checks that have not finished when the budget runs out are cancelled and reported as
``error`` ("did not finish in time"); the rest are returned as they are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping

from service.diagnostics import dns_checks, mail_checks
from service.diagnostics.config import DiagnosticsConfig
from service.diagnostics.context import CheckContext, result
from service.diagnostics.dns import DnsClient
from service.diagnostics.domain import normalise_domain
from service.diagnostics.findings import infer_causes
from service.diagnostics.guard import AddressGuard
from service.diagnostics.lookups import Lookups
from service.diagnostics.models import CheckId, CheckResult, CheckStatus, Diagnosis
from service.diagnostics.smtp import TlsContexts
from service.errors import DiagnosticError

log = logging.getLogger(__name__)

Check = Callable[[CheckContext], Awaitable[CheckResult]]

CHECKS: Mapping[CheckId, Check] = {
    CheckId.DOMAIN: dns_checks.check_domain,
    CheckId.NAMESERVERS: dns_checks.check_nameservers,
    CheckId.MX: dns_checks.check_mx,
    CheckId.MAIL_HOST: dns_checks.check_mail_host,
    CheckId.SOA_SERIALS: dns_checks.check_soa_serials,
    CheckId.PROPAGATION: dns_checks.check_propagation,
    CheckId.SMTP_587: mail_checks.check_smtp_587,
    CheckId.SMTP_465: mail_checks.check_smtp_465,
    CheckId.SMTP_25: mail_checks.check_smtp_25,
    CheckId.RELAY_POLICY: mail_checks.check_relay_policy,
}

WHAT: Mapping[CheckId, str] = {
    CheckId.DOMAIN: "Looking up the domain",
    CheckId.NAMESERVERS: "Looking up the nameservers",
    CheckId.MX: "Looking up the MX records",
    CheckId.MAIL_HOST: "Looking up the outgoing mail server name",
    CheckId.SOA_SERIALS: "Comparing the nameservers' copies of your DNS",
    CheckId.PROPAGATION: "Comparing DNS resolvers with your nameservers",
    CheckId.SMTP_587: "Testing port 587",
    CheckId.SMTP_465: "Testing port 465",
    CheckId.SMTP_25: "Testing port 25",
    CheckId.RELAY_POLICY: "Testing our mail server's relay rules",
}

REAP_TIMEOUT_S = 0.2


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def _timed(check_id: CheckId, ctx: CheckContext, started: float) -> CheckResult:
    try:
        outcome = await CHECKS[check_id](ctx)
    except DiagnosticError as exc:
        outcome = result(check_id, CheckStatus.ERROR, f"{WHAT[check_id]} failed: {exc.message}.")
    except Exception:  # a bug in one check must not sink the others
        log.exception("check %s crashed for %s", check_id, ctx.domain)
        outcome = result(check_id, CheckStatus.ERROR, f"{WHAT[check_id]} failed unexpectedly.")
    return outcome.model_copy(update={"elapsed_ms": _ms(time.perf_counter() - started)})


async def run_checks(
    ctx: CheckContext, check_ids: Iterable[CheckId], *, budget_s: float
) -> list[CheckResult]:
    """Run the checks concurrently; whatever is unfinished at ``budget_s`` becomes ``error``."""
    started = time.perf_counter()
    tasks = {cid: asyncio.create_task(_timed(cid, ctx, started)) for cid in check_ids}
    try:
        await asyncio.wait(tasks.values(), timeout=budget_s)
    finally:
        late = [t for t in tasks.values() if not t.done()]
        for task in late:
            task.cancel()
        await ctx.lookups.aclose()
        if late:
            await asyncio.wait(late, timeout=REAP_TIMEOUT_S)
    results = []
    for check_id, task in tasks.items():
        if task.done() and not task.cancelled():
            results.append(task.result())
        else:
            results.append(
                result(
                    check_id,
                    CheckStatus.ERROR,
                    f"{WHAT[check_id]} did not finish in time: a server did not answer.",
                    budget_s=budget_s,
                ).model_copy(update={"elapsed_ms": _ms(budget_s)})
            )
    return results


class Diagnostician:
    """Runs diagnoses; long-lived (one per app), holding the cache and the TLS contexts."""

    def __init__(
        self,
        config: DiagnosticsConfig,
        *,
        tls: TlsContexts | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_cached: int = 1024,
    ) -> None:
        self.config = config
        self.guard = AddressGuard(config.allowed_networks)
        self.dns = DnsClient(
            resolvers=config.resolvers,
            authoritative_port=config.authoritative_port,
            timeout_s=config.dns_timeout_s,
            lifetime_s=config.dns_lifetime_s,
        )
        self.tls = tls or TlsContexts.system(expiry_warn_days=config.cert_expiry_warn_days)
        self._clock = clock
        self._max_cached = max_cached
        self._cache: OrderedDict[str, tuple[float, Diagnosis]] = OrderedDict()
        self._running: dict[str, asyncio.Task[Diagnosis]] = {}

    async def run(self, domain: str) -> Diagnosis:
        """The diagnosis of ``domain``, from cache when fresh; raises ``InvalidDomain``."""
        name = normalise_domain(domain)
        if not self.config.enabled:
            return self._disabled(name)
        cached = self._cache.get(name)
        if cached is not None and self._clock() < cached[0]:
            return cached[1].model_copy(update={"cached": True, "elapsed_ms": 0})
        task = self._running.get(name)
        if task is None:
            task = self._running[name] = asyncio.create_task(self._fresh(name))
            task.add_done_callback(lambda _: self._running.pop(name, None))
        return await asyncio.shield(task)  # a caller going away does not waste the work

    async def _fresh(self, name: str) -> Diagnosis:
        diagnosis = await self.diagnose(name)
        if self.config.cache_ttl_s > 0:
            self._cache[name] = (self._clock() + self.config.cache_ttl_s, diagnosis)
            self._cache.move_to_end(name)
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return diagnosis

    def context(self, name: str) -> CheckContext:
        lookups = Lookups(name, config=self.config, dns=self.dns, guard=self.guard)
        return CheckContext(name, self.config, self.dns, self.guard, self.tls, lookups)

    async def diagnose(self, name: str, check_ids: Iterable[CheckId] = tuple(CheckId)) -> Diagnosis:
        """An uncached diagnosis of an already normalised domain (benchmarks use this)."""
        started = time.perf_counter()
        checks = await run_checks(self.context(name), check_ids, budget_s=self.config.budget_s)
        return Diagnosis(
            domain=name,
            checks=checks,
            causes=infer_causes(checks),
            elapsed_ms=_ms(time.perf_counter() - started),
        )

    def _disabled(self, name: str) -> Diagnosis:
        checks = [
            result(cid, CheckStatus.SKIPPED, "Live checks are turned off on this service.")
            for cid in CheckId
        ]
        return Diagnosis(domain=name, checks=checks, causes=[], elapsed_ms=0)

    async def aclose(self) -> None:
        """Cancel diagnoses still running (at shutdown)."""
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        self._cache.clear()
