"""What every check receives: the domain, plain config, and the shared adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.diagnostics.config import DiagnosticsConfig
from service.diagnostics.dns import DnsClient
from service.diagnostics.guard import AddressGuard
from service.diagnostics.lookups import Lookups
from service.diagnostics.models import CheckId, CheckResult, CheckStatus
from service.diagnostics.smtp import TlsContexts


@dataclass(frozen=True)
class CheckContext:
    domain: str
    config: DiagnosticsConfig
    dns: DnsClient
    guard: AddressGuard
    tls: TlsContexts
    lookups: Lookups


def result(check_id: CheckId, status: CheckStatus, summary: str, **data: Any) -> CheckResult:
    """A check result; ``elapsed_ms`` is filled in by the runner."""
    return CheckResult(id=check_id, status=status, summary=summary, data=data)


def plural(count: int, word: str) -> str:
    """``plural(2, "address")`` -> ``"2 addresses"``."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}es" if word.endswith(("s", "x")) else f"{count} {word}s"


def wait_in_words(seconds: int) -> str:
    """``90`` -> ``"about 2 minutes"``: the wait to quote to a customer."""
    if seconds < 90:
        return plural(max(seconds, 1), "second")
    if seconds < 90 * 60:
        return "about " + plural(round(seconds / 60), "minute")
    return "about " + plural(round(seconds / 3600), "hour")
