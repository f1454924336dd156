"""Pure: check results in, named causes out, strongest first. No I/O here.

Each cause gathers weighted evidence; weights combine as independent signals
(``1 - prod(1 - w)``), so two pieces of evidence beat one::

    causes = infer_causes([nameservers_fail, mx_fail])
    causes[0].intent       # CauseIntent.EXTERNAL_DNS
    causes[0].confidence   # 0.88
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from service.diagnostics.models import Cause, CauseIntent, CheckId, CheckResult, CheckStatus

Evidence = list[tuple[float, str]]

# How much a check's status says about a cause (absent: says nothing).
EXTERNAL_DNS_WEIGHTS: Mapping[CheckId, Mapping[CheckStatus, float]] = {
    CheckId.NAMESERVERS: {CheckStatus.FAIL: 0.5, CheckStatus.WARN: 0.2},
    CheckId.MX: {CheckStatus.FAIL: 0.75, CheckStatus.WARN: 0.4},
    CheckId.MAIL_HOST: {CheckStatus.FAIL: 0.6},
}
PROPAGATION_WEIGHTS: Mapping[CheckId, Mapping[CheckStatus, float]] = {
    CheckId.PROPAGATION: {CheckStatus.WARN: 0.85},
    CheckId.SOA_SERIALS: {CheckStatus.WARN: 0.6},
}
AUTH_WEIGHTS: Mapping[CheckId, Mapping[CheckStatus, float]] = {
    CheckId.RELAY_POLICY: {CheckStatus.PASS: 0.7},
    CheckId.SMTP_587: {CheckStatus.PASS: 0.3, CheckStatus.WARN: 0.3},
    CheckId.SMTP_465: {CheckStatus.PASS: 0.15, CheckStatus.WARN: 0.15},
}
# Port 25 blocking cannot be seen from here; a working 587/465 only makes switching safe.
PORT_FALLBACK_WEIGHT = 0.25
# When the customer's DNS sends mail elsewhere, our server's relay rules matter less.
AUTH_DAMPING_WITH_EXTERNAL_DNS = 0.5


def combine(weights: Iterable[float]) -> float:
    """Independent evidence: ``1 - prod(1 - w)``, rounded to two places."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return round(1.0 - remaining, 2)


def _speaks(check: CheckResult) -> bool:
    """Statuses that mean something else for this check's cause are not evidence."""
    if check.id == CheckId.SOA_SERIALS:
        return bool(check.data.get("behind"))  # a silent nameserver is not propagation
    return True


def _gather(
    checks: Mapping[CheckId, CheckResult], weights: Mapping[CheckId, Mapping[CheckStatus, float]]
) -> Evidence:
    evidence: Evidence = []
    for check_id, by_status in weights.items():
        check = checks.get(check_id)
        if check is not None and check.status in by_status and _speaks(check):
            evidence.append((by_status[check.status], check.summary))
    return evidence


def _cause(intent: CauseIntent, evidence: Evidence, scale: float = 1.0) -> Cause | None:
    if not evidence:
        return None
    ordered = sorted(evidence, key=lambda item: -item[0])
    confidence = round(combine(w for w, _ in ordered) * scale, 2)
    return Cause(intent=intent, confidence=confidence, evidence=[text for _, text in ordered])


def _stale_mail_host(checks: Mapping[CheckId, CheckResult]) -> bool:
    """mail.<domain> looks wrong only because a resolver still holds the old address."""
    propagation = checks.get(CheckId.PROPAGATION)
    if propagation is None or propagation.status != CheckStatus.WARN:
        return False
    rows = propagation.data.get("resolvers", [])
    return any(row.get("stale") and row.get("type") in ("A", "AAAA") for row in rows)


def _port_fallback(checks: Mapping[CheckId, CheckResult]) -> Cause | None:
    working = [
        checks[c].summary
        for c in (CheckId.SMTP_587, CheckId.SMTP_465)
        if c in checks and checks[c].status in (CheckStatus.PASS, CheckStatus.WARN)
    ]
    if not working:
        return None
    evidence = [
        f"If your internet provider blocks port 25, switching is safe: {s}" for s in working
    ]
    return Cause(
        intent=CauseIntent.PORT_BLOCKED, confidence=PORT_FALLBACK_WEIGHT, evidence=evidence
    )


def infer_causes(results: Iterable[CheckResult]) -> list[Cause]:
    """The causes the results point to, strongest first; empty when nothing points anywhere."""
    checks = {r.id: r for r in results}
    domain = checks.get(CheckId.DOMAIN)
    if domain is not None and domain.status == CheckStatus.FAIL:
        return []  # the domain does not exist: no mail setting can be the cause
    external_evidence = _gather(checks, EXTERNAL_DNS_WEIGHTS)
    if _stale_mail_host(checks):
        mail_host = checks[CheckId.MAIL_HOST].summary if CheckId.MAIL_HOST in checks else None
        external_evidence = [e for e in external_evidence if e[1] != mail_host]
    external = _cause(CauseIntent.EXTERNAL_DNS, external_evidence)
    propagation = _cause(CauseIntent.DNS_PROPAGATION, _gather(checks, PROPAGATION_WEIGHTS))
    damping = AUTH_DAMPING_WITH_EXTERNAL_DNS if external and external.confidence >= 0.5 else 1.0
    auth = _cause(CauseIntent.AUTH, _gather(checks, AUTH_WEIGHTS), damping)
    found = [c for c in (external, propagation, auth, _port_fallback(checks)) if c is not None]
    return sorted(found, key=lambda c: -c.confidence)
