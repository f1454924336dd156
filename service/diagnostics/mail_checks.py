"""The SMTP checks: smtp_587, smtp_465, smtp_25 and relay_policy.

They probe the server the customer's mail program should use (``mail.<domain>``, or
our own server when that name does not exist), always at a vetted literal address and
only on the standard ports (mapped to the ports actually dialled by configuration).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from service.diagnostics.context import CheckContext, result
from service.diagnostics.dns_checks import gone
from service.diagnostics.lookups import MailTarget
from service.diagnostics.models import CheckId, CheckResult, CheckStatus
from service.diagnostics.smtp import (
    Reply,
    SmtpProbe,
    Target,
    Timing,
    probe_implicit_tls,
    probe_plain,
    probe_relay,
    probe_submission,
)
from service.errors import DiagnosticError, DiagnosticTimeout

_RELAY_WORDING = re.compile(r"relay|5\.7\.54|5\.7\.1\b", re.IGNORECASE)
_MTA_WORDING = (
    ("postfix", re.compile(r"relay access denied", re.IGNORECASE)),
    ("sendmail", re.compile(r"relaying denied", re.IGNORECASE)),
    ("exim", re.compile(r"relay not permitted", re.IGNORECASE)),
    ("exchange", re.compile(r"5\.7\.54|unable to relay", re.IGNORECASE)),
)


class RelayVerdict(StrEnum):
    REFUSED = "refused"  # 5xx naming relaying: authentication is required
    ACCEPTED = "accepted"  # an open relay
    TEMPORARY = "temporary"  # 4xx
    OTHER = "other"  # 5xx for some other reason


def classify_rcpt(reply: Reply) -> RelayVerdict:
    """What an unauthenticated ``RCPT TO`` an outside address was answered with."""
    if 200 <= reply.code < 300:
        return RelayVerdict.ACCEPTED
    if 400 <= reply.code < 500:
        return RelayVerdict.TEMPORARY
    if _RELAY_WORDING.search(str(reply)):
        return RelayVerdict.REFUSED
    return RelayVerdict.OTHER


def mta_wording(reply: Reply) -> str | None:
    """Whose wording a relay refusal uses (postfix, sendmail, exim, exchange), if known."""
    return next((mta for mta, pattern in _MTA_WORDING if pattern.search(reply.text)), None)


def _timing(ctx: CheckContext) -> Timing:
    config = ctx.config
    return Timing(config.connect_timeout_s, config.read_timeout_s, config.helo_name)


async def _target(ctx: CheckContext, standard_port: int) -> tuple[MailTarget, Target]:
    """The vetted address to dial for a standard port; raises ``AddressRefused``."""
    ctx.guard.vet_port(standard_port)
    mail = await ctx.lookups.mail_target()
    if not mail.addresses.addresses:
        raise TargetUnavailable(mail, f"{mail.host} has no address we could look up")
    vetted = mail.addresses.vetted
    if not vetted:
        address, why = mail.addresses.refused[0]
        raise TargetUnavailable(mail, f"we do not connect to {mail.host} at {address}: it is {why}")
    port = ctx.config.smtp_ports.get(standard_port, standard_port)
    return mail, Target(str(ctx.guard.vet(vetted[0])), port, mail.host)


class TargetUnavailable(DiagnosticError):
    """Nothing we may connect to (no address, or only refused ones); keeps the target."""

    def __init__(self, mail: MailTarget, message: str) -> None:
        super().__init__(message)
        self.mail = mail


def _where(mail: MailTarget, port: int) -> str:
    return f"port {port} on {mail.host}"


def _probe_data(mail: MailTarget, target: Target, probe: SmtpProbe | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "host": mail.host,
        "address": target.address,
        "port": target.port,
        "provider": mail.provider,
        "fallback": mail.fallback,
    }
    if probe is not None:
        data |= {
            "banner": probe.banner,
            "starttls": probe.starttls_offered,
            "auth": probe.auth_mechanisms,
            "auth_before_tls": probe.auth_before_tls,
        }
        if probe.tls is not None:
            data["tls"] = {
                "verified": probe.tls.verified,
                "problem": probe.tls.problem,
                "version": probe.tls.version,
                "days_left": probe.tls.days_left,
            }
    return data


async def _probed(
    ctx: CheckContext,
    check_id: CheckId,
    standard_port: int,
    probe: Callable[[Target], Awaitable[SmtpProbe]],
    judge: Callable[[str, SmtpProbe], tuple[CheckStatus, str]],
) -> CheckResult:
    """Run one probe and turn its outcome, or its failure, into a result."""
    if (skipped := await gone(ctx, check_id)) is not None:
        return skipped
    try:
        mail, target = await _target(ctx, standard_port)
    except TargetUnavailable as exc:
        return result(
            check_id,
            CheckStatus.ERROR,
            exc.message[0].upper() + exc.message[1:] + ".",
            host=exc.mail.host,
            addresses=list(exc.mail.addresses.addresses),
        )
    where = _where(mail, standard_port)
    try:
        found = await probe(target)
    except DiagnosticTimeout as exc:
        return result(
            check_id,
            CheckStatus.ERROR,
            f"On {where}, {exc.message}.",
            **_probe_data(mail, target, None),
        )
    except DiagnosticError as exc:
        return result(
            check_id,
            CheckStatus.FAIL,
            f"On {where}, {exc.message}.",
            **_probe_data(mail, target, None),
        )
    status, summary = judge(where, found)
    return result(check_id, status, summary, **_probe_data(mail, target, found))


def _tls_caveat(probe: SmtpProbe) -> tuple[CheckStatus, str]:
    if probe.tls is not None and probe.tls.problem:
        return CheckStatus.WARN, f" However, its certificate has a problem: {probe.tls.problem}."
    return CheckStatus.PASS, ""


def _judge_submission(where: str, probe: SmtpProbe) -> tuple[CheckStatus, str]:
    if not probe.starttls_offered:
        return CheckStatus.FAIL, (
            f"{where.capitalize()} does not offer encryption (STARTTLS), so a mail program "
            "cannot log in safely there."
        )
    if not probe.auth_mechanisms:
        return CheckStatus.FAIL, (
            f"{where.capitalize()} encrypts the connection but does not offer to log in "
            "(SMTP AUTH)."
        )
    status, caveat = _tls_caveat(probe)
    return status, (
        f"{where.capitalize()} works: it encrypts the connection (STARTTLS) and then lets "
        f"mail programs log in.{caveat}"
    )


def _judge_implicit(where: str, probe: SmtpProbe) -> tuple[CheckStatus, str]:
    if not probe.auth_mechanisms:
        return CheckStatus.FAIL, (
            f"{where.capitalize()} encrypts the connection but does not offer to log in "
            "(SMTP AUTH)."
        )
    status, caveat = _tls_caveat(probe)
    return status, (
        f"{where.capitalize()} works: it is encrypted from the start (SSL/TLS) and lets mail "
        f"programs log in.{caveat}"
    )


def _judge_plain(where: str, probe: SmtpProbe) -> tuple[CheckStatus, str]:
    return CheckStatus.PASS, f"{where.capitalize()} answers and greets normally."


async def check_smtp_587(ctx: CheckContext) -> CheckResult:
    return await _probed(
        ctx,
        CheckId.SMTP_587,
        587,
        lambda t: probe_submission(t, tls=ctx.tls, timing=_timing(ctx)),
        _judge_submission,
    )


async def check_smtp_465(ctx: CheckContext) -> CheckResult:
    return await _probed(
        ctx,
        CheckId.SMTP_465,
        465,
        lambda t: probe_implicit_tls(t, tls=ctx.tls, timing=_timing(ctx)),
        _judge_implicit,
    )


async def check_smtp_25(ctx: CheckContext) -> CheckResult:
    return await _probed(
        ctx, CheckId.SMTP_25, 25, lambda t: probe_plain(t, timing=_timing(ctx)), _judge_plain
    )


async def check_relay_policy(ctx: CheckContext) -> CheckResult:
    if (skipped := await gone(ctx, CheckId.RELAY_POLICY)) is not None:
        return skipped
    mail = await ctx.lookups.mail_target()
    if not mail.provider:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.SKIPPED,
            f"{mail.host} is not one of our mail servers; we only test our own servers' "
            "relay rules.",
            host=mail.host,
        )
    try:
        mail, target = await _target(ctx, 25)
    except TargetUnavailable as exc:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.ERROR,
            exc.message[0].upper() + exc.message[1:] + ".",
            host=mail.host,
        )
    base = {"host": mail.host, "address": target.address, "port": target.port}
    try:
        probe = await probe_relay(
            target,
            sender=ctx.config.relay_probe_sender,
            recipient=ctx.config.relay_probe_recipient,
            timing=_timing(ctx),
        )
    except DiagnosticTimeout as exc:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.ERROR,
            f"{mail.host} did not finish the relay test: {exc.message}.",
            **base,
        )
    except DiagnosticError as exc:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.ERROR,
            f"We could not run the relay test on {mail.host}: {exc.message}.",
            **base,
        )
    base |= {"mail_from": str(probe.mail_from)}
    if probe.rcpt_to is None:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.WARN,
            f"{mail.host} refused our test sender: {probe.mail_from}.",
            **base,
        )
    reply = probe.rcpt_to
    verdict = classify_rcpt(reply)
    base |= {"rcpt_to": str(reply), "verdict": verdict.value, "mta": mta_wording(reply)}
    if verdict is RelayVerdict.REFUSED:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.PASS,
            f"Our server {mail.host} refuses to pass on mail from senders who have not logged "
            f"in (\u201c{reply}\u201d): your mail program must log in with your email address "
            "and password (SMTP authentication).",
            **base,
        )
    if verdict is RelayVerdict.ACCEPTED:
        return result(
            CheckId.RELAY_POLICY,
            CheckStatus.FAIL,
            f"{mail.host} accepted mail for an outside address without a login (an open "
            "relay). That is a problem on our side; support will look into it.",
            **base,
        )
    return result(
        CheckId.RELAY_POLICY,
        CheckStatus.WARN,
        f"{mail.host} turned down our test for another reason: \u201c{reply}\u201d.",
        **base,
    )
