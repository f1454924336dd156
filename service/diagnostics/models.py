"""The diagnosis contract: checks, causes and the response that carries them.

A ``Diagnosis`` serialises exactly to the ``POST /v1/diagnose`` body::

    {"domain": "example.com",
     "checks": [{"id": "mx", "status": "fail", "summary": "...", "data": {}, "elapsed_ms": 12}],
     "causes": [{"intent": "relay.external_dns", "confidence": 0.9, "evidence": ["..."]}],
     "elapsed_ms": 48, "cached": false}
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CheckId(StrEnum):
    """Every check, in the order a diagnosis lists them."""

    DOMAIN = "domain"
    NAMESERVERS = "nameservers"
    MX = "mx"
    MAIL_HOST = "mail_host"
    SOA_SERIALS = "soa_serials"
    PROPAGATION = "propagation"
    SMTP_587 = "smtp_587"
    SMTP_465 = "smtp_465"
    SMTP_25 = "smtp_25"
    RELAY_POLICY = "relay_policy"


class CheckStatus(StrEnum):
    """``error`` means we could not tell (timeout, SERVFAIL, refused)."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class CauseIntent(StrEnum):
    """The knowledge-base intents a diagnosis can point to."""

    EXTERNAL_DNS = "relay.external_dns"
    DNS_PROPAGATION = "relay.dns_propagation"
    AUTH = "relay.auth"
    PORT_BLOCKED = "relay.port_blocked"


class CheckResult(BaseModel):
    """One check's outcome; ``data`` holds the raw facts behind the summary."""

    model_config = ConfigDict(frozen=True)

    id: CheckId
    status: CheckStatus
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)
    elapsed_ms: int = 0


class Cause(BaseModel):
    """A named cause with the evidence for it, in plain words."""

    model_config = ConfigDict(frozen=True)

    intent: CauseIntent
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str]


class Diagnosis(BaseModel):
    """Every check that finished (or did not, in time) and the causes they point to."""

    model_config = ConfigDict(frozen=True)

    domain: str
    checks: list[CheckResult]
    causes: list[Cause]
    elapsed_ms: int
    cached: bool = False

    def check(self, check_id: CheckId) -> CheckResult | None:
        """The result of one check, if it is in this diagnosis."""
        return next((c for c in self.checks if c.id == check_id), None)
