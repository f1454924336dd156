"""The Diagnostician: one budget for all checks, the per-domain cache, single flight."""

from __future__ import annotations

import asyncio
import time

import pytest
from support.lab import Lab
from support.net import ConnectionRecorder

from service.diagnostics import CheckId, CheckStatus, Diagnosis, Diagnostician, runner
from service.diagnostics.context import CheckContext, result
from service.diagnostics.models import CheckResult
from service.errors import InvalidDomain

pytestmark = pytest.mark.anyio


async def test_unfinished_checks_become_errors_at_the_budget(
    lab: Lab, lab_trust: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(ctx: CheckContext) -> CheckResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def quick(ctx: CheckContext) -> CheckResult:
        return result(CheckId.DOMAIN, CheckStatus.PASS, "fine")

    monkeypatch.setitem(runner.CHECKS, CheckId.SMTP_587, never)  # type: ignore[index]
    monkeypatch.setitem(runner.CHECKS, CheckId.DOMAIN, quick)  # type: ignore[index]
    diagnostician = Diagnostician(lab.config(budget_s=0.3))
    started = time.perf_counter()
    diagnosis = await diagnostician.diagnose("healthy.test", [CheckId.DOMAIN, CheckId.SMTP_587])
    assert time.perf_counter() - started < 0.3 + 0.1
    domain, smtp = diagnosis.checks
    assert domain.status is CheckStatus.PASS
    assert smtp.status is CheckStatus.ERROR and "did not finish in time" in smtp.summary
    assert smtp.elapsed_ms == 300


async def test_a_crashing_check_does_not_sink_the_others(
    lab: Lab, lab_trust: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: CheckContext) -> CheckResult:
        raise KeyError("bug")

    monkeypatch.setitem(runner.CHECKS, CheckId.MX, broken)  # type: ignore[index]
    diagnosis = await Diagnostician(lab.config()).diagnose(
        "healthy.test", [CheckId.DOMAIN, CheckId.MX]
    )
    assert [c.status for c in diagnosis.checks] == [CheckStatus.PASS, CheckStatus.ERROR]


async def test_cache_hit_is_marked_and_fast(diagnostician: Diagnostician, lab: Lab) -> None:
    first = await diagnostician.run(lab.domains.healthy)
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        again = await diagnostician.run(" HEALTHY.test. ")
        timings.append(time.perf_counter() - started)
    assert first.cached is False and again.cached is True and again.elapsed_ms == 0
    assert again.checks == first.checks and again.causes == first.causes
    assert min(timings) < 0.001


async def test_cache_expires_after_its_ttl(lab: Lab, lab_trust: object) -> None:
    now = [1000.0]
    diagnostician = Diagnostician(lab.config(cache_ttl_s=60), clock=lambda: now[0])
    assert (await diagnostician.run(lab.domains.external)).cached is False
    now[0] += 59
    assert (await diagnostician.run(lab.domains.external)).cached is True
    now[0] += 2
    assert (await diagnostician.run(lab.domains.external)).cached is False


async def test_concurrent_requests_for_one_domain_share_one_run(
    diagnostician: Diagnostician, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = diagnostician.diagnose

    async def counted(name: str, *args: object) -> Diagnosis:
        calls.append(name)
        return await original(name)

    monkeypatch.setattr(diagnostician, "diagnose", counted)
    results = await asyncio.gather(*(diagnostician.run(lab.domains.healthy) for _ in range(5)))
    assert calls == [lab.domains.healthy]
    assert len({r.model_dump_json() for r in results}) == 1


async def test_invalid_domain_is_refused_before_any_lookup(diagnostician: Diagnostician) -> None:
    with ConnectionRecorder.recording() as seen, pytest.raises(InvalidDomain):
        await diagnostician.run("169.254.169.254")
    assert seen.addresses == []


async def test_turned_off_diagnostics_contact_nobody(lab: Lab, lab_trust: object) -> None:
    diagnostician = Diagnostician(lab.config(enabled=False))
    with ConnectionRecorder.recording() as seen:
        diagnosis = await diagnostician.run(lab.domains.healthy)
    assert seen.addresses == []
    assert {c.status for c in diagnosis.checks} == {CheckStatus.SKIPPED}


def test_the_contract_serialises_exactly(lab: Lab) -> None:
    diagnosis = Diagnosis(
        domain="example.com",
        checks=[result(CheckId.MX, CheckStatus.FAIL, "MX points elsewhere", host="mx.test")],
        causes=[],
        elapsed_ms=48,
    )
    assert diagnosis.model_dump(mode="json") == {
        "domain": "example.com",
        "checks": [
            {
                "id": "mx",
                "status": "fail",
                "summary": "MX points elsewhere",
                "data": {"host": "mx.test"},
                "elapsed_ms": 0,
            }
        ],
        "causes": [],
        "elapsed_ms": 48,
        "cached": False,
    }
