"""The SMTP probes and checks against real aiosmtpd servers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme
from support.lab import MAIL, Lab
from support.net import SilentServer, free_port
from support.smtpd import RELAY_REFUSALS, SmtpServer

from service.diagnostics import CheckId, CheckStatus, Diagnostician
from service.diagnostics.mail_checks import RelayVerdict, classify_rcpt, mta_wording
from service.diagnostics.smtp import (
    Target,
    Timing,
    TlsContexts,
    probe_implicit_tls,
    probe_plain,
    probe_relay,
    probe_submission,
)
from service.errors import DiagnosticTimeout, ProbeFailed

pytestmark = pytest.mark.anyio
HOST = "mail.healthy.test"
TIMING = Timing(connect_s=0.5, read_s=0.4, helo_name="relaydesk.test")


@pytest.fixture
def tls(lab_trust: object) -> TlsContexts:
    return TlsContexts.system()


StartSmtp = Callable[..., SmtpServer]


@pytest.fixture
def start(lab: Lab) -> Iterator[StartSmtp]:
    """Start an aiosmtpd server on a free 127.0.0.1 port; stopped after the test."""
    started: list[SmtpServer] = []

    def start_smtp(**kwargs: Any) -> SmtpServer:
        server = SmtpServer.start_on(MAIL, free_port([MAIL], udp=False), **kwargs)
        started.append(server)
        return server

    yield start_smtp
    for server in started:
        server.stop()


def target(port: int) -> Target:
    return Target(MAIL, port, HOST)


def with_ports(lab: Lab, **ports: int) -> Diagnostician:
    mapped = dict(lab.smtp_ports) | {int(k.removeprefix("p")): v for k, v in ports.items()}
    return Diagnostician(lab.config(smtp_ports=mapped))


async def test_auth_is_offered_only_after_starttls(
    lab: Lab, tls: TlsContexts, start: StartSmtp
) -> None:
    port = start(tls=lab.ca.server_context(HOST)).port
    probe = await probe_submission(target(port), tls=tls, timing=TIMING)
    assert probe.starttls_offered and not probe.auth_before_tls
    assert {"LOGIN", "PLAIN"} <= set(probe.auth_mechanisms)
    assert probe.tls is not None and probe.tls.verified and probe.tls.problem is None
    assert probe.banner is not None


async def test_implicit_tls(lab: Lab, tls: TlsContexts, start: StartSmtp) -> None:
    port = start(implicit=lab.ca.server_context(HOST)).port
    probe = await probe_implicit_tls(target(port), tls=tls, timing=TIMING)
    assert probe.tls is not None and probe.tls.verified and probe.tls.version
    assert probe.auth_mechanisms


@pytest.mark.parametrize("mta", sorted(RELAY_REFUSALS))
async def test_relay_refusal_in_each_mtas_words(mta: str, start: StartSmtp) -> None:
    server = start(rcpt_reply=RELAY_REFUSALS[mta])
    port = server.port
    probe = await probe_relay(
        target(port),
        sender="probe@relaydesk.test",
        recipient="relaydesk-probe@example.com",
        timing=TIMING,
    )
    assert probe.rcpt_to is not None
    assert classify_rcpt(probe.rcpt_to) is RelayVerdict.REFUSED
    assert mta_wording(probe.rcpt_to) == mta
    assert server.handler.commands == ["MAIL", "RCPT"]  # and never DATA


async def test_relay_policy_check_passes_on_postfix_refusal(
    lab: Lab, lab_trust: object, start: StartSmtp
) -> None:
    port = start(rcpt_reply=RELAY_REFUSALS["postfix"]).port
    diagnosis = await with_ports(lab, p25=port).diagnose(
        HOST.removeprefix("mail."), [CheckId.RELAY_POLICY]
    )
    relay = diagnosis.checks[0]
    assert relay.status is CheckStatus.PASS and relay.data["mta"] == "postfix"
    assert "Relay access denied" in relay.summary
    assert diagnosis.causes[0].intent == "relay.auth"


async def test_open_relay_fails_and_nothing_is_sent(
    lab: Lab, lab_trust: object, start: StartSmtp
) -> None:
    server = start(rcpt_reply=None)
    port = server.port
    diagnosis = await with_ports(lab, p25=port).diagnose("healthy.test", [CheckId.RELAY_POLICY])
    relay = diagnosis.checks[0]
    assert relay.status is CheckStatus.FAIL and relay.data["verdict"] == "accepted"
    assert "DATA" not in server.handler.commands


async def test_silent_server_times_out_on_the_greeting(lab: Lab) -> None:
    port = free_port([MAIL], udp=False)
    with SilentServer(MAIL, port) as silent:
        started = time.perf_counter()
        with pytest.raises(DiagnosticTimeout, match="greeting"):
            await probe_plain(target(port), timing=TIMING)
        assert time.perf_counter() - started < TIMING.read_s + 0.3
        assert silent.accepted == 1


async def test_silent_submission_port_is_an_error_within_budget(
    lab: Lab, lab_trust: object
) -> None:
    port = free_port([MAIL], udp=False)
    with SilentServer(MAIL, port):
        diagnostician = with_ports(lab, p587=port)
        diagnosis = await diagnostician.diagnose("healthy.test", [CheckId.SMTP_587])
    check = diagnosis.checks[0]
    assert check.status is CheckStatus.ERROR and "did not answer" in check.summary
    assert check.elapsed_ms <= diagnostician.config.budget_s * 1000


async def test_closed_port(lab: Lab, lab_trust: object) -> None:
    port = free_port([MAIL], udp=False)  # nothing listens
    with pytest.raises(ProbeFailed, match="nothing accepts connections"):
        await probe_plain(target(port), timing=TIMING)
    diagnosis = await with_ports(lab, p465=port).diagnose("healthy.test", [CheckId.SMTP_465])
    assert diagnosis.checks[0].status is CheckStatus.FAIL


async def test_wrong_certificate_warns_and_still_reads_auth(
    lab: Lab, lab_trust: object, start: StartSmtp
) -> None:
    port = start(tls=lab.ca.server_context("mail.someone-else.test")).port
    diagnosis = await with_ports(lab, p587=port).diagnose("healthy.test", [CheckId.SMTP_587])
    check = diagnosis.checks[0]
    assert check.status is CheckStatus.WARN
    assert check.data["tls"]["verified"] is False
    assert "mismatch" in check.data["tls"]["problem"].lower()
    assert check.data["auth"]  # EHLO after TLS still happened


async def test_untrusted_certificate_on_implicit_tls(
    lab: Lab, tls: TlsContexts, start: StartSmtp
) -> None:
    stranger = trustme.CA()
    port = start(implicit=lab.ca.server_context(HOST, ca=stranger)).port
    probe = await probe_implicit_tls(target(port), tls=tls, timing=TIMING)
    assert probe.tls is not None and not probe.tls.verified
    assert probe.tls.problem and "issuer" in probe.tls.problem
    assert probe.auth_mechanisms


async def test_certificate_near_expiry_warns(lab: Lab, lab_trust: object, start: StartSmtp) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    port = start(implicit=lab.ca.server_context(HOST, not_after=soon)).port
    diagnosis = await with_ports(lab, p465=port).diagnose("healthy.test", [CheckId.SMTP_465])
    check = diagnosis.checks[0]
    assert check.status is CheckStatus.WARN and check.data["tls"]["verified"] is True
    assert "expires in" in check.summary and check.data["tls"]["days_left"] <= 3


async def test_no_starttls_fails_submission(lab: Lab, lab_trust: object, start: StartSmtp) -> None:
    port = start().port  # no TLS context: STARTTLS is not offered
    diagnosis = await with_ports(lab, p587=port).diagnose("healthy.test", [CheckId.SMTP_587])
    check = diagnosis.checks[0]
    assert check.status is CheckStatus.FAIL and "STARTTLS" in check.summary
