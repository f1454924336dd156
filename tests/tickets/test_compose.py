"""The reply decision and the email that says it: pure, no app."""

from __future__ import annotations

import re

import pytest

from service.diagnostics.models import (
    Cause,
    CauseIntent,
    CheckId,
    CheckResult,
    CheckStatus,
    Diagnosis,
)
from service.dialogue.state import EscalationReason
from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.tickets.compose import compose_email, plan_ticket, relay_order, reply_subject
from service.tickets.models import TicketAction

STEP = re.compile(r"^(\d+)\. ")


def _diagnosis(*, mx: CheckStatus, causes: list[Cause]) -> Diagnosis:
    checks = [
        CheckResult(id=CheckId.MX, status=mx, summary="MX checked."),
        CheckResult(id=CheckId.MAIL_HOST, status=CheckStatus.PASS, summary="Host checked."),
    ]
    return Diagnosis(domain="bakery.test", checks=checks, causes=causes, elapsed_ms=3)


EXTERNAL = Cause(
    intent=CauseIntent.EXTERNAL_DNS,
    confidence=0.95,
    evidence=["Its MX points at mx.other-provider.test, not at our servers."],
)


def test_checks_reorder_the_causes_and_dns_drops_out_when_fine() -> None:
    assert relay_order("relay.unknown_cause", None) == [
        "relay.auth",
        "relay.port_blocked",
        "relay.dns_propagation",
        "relay.external_dns",
    ]
    external = _diagnosis(mx=CheckStatus.FAIL, causes=[EXTERNAL])
    assert relay_order("relay.unknown_cause", external)[0] == "relay.external_dns"
    assert relay_order("relay.auth", external) == ["relay.external_dns", "relay.auth"]
    fine = _diagnosis(mx=CheckStatus.PASS, causes=[])
    assert relay_order("relay.unknown_cause", fine) == ["relay.auth", "relay.port_blocked"]


def test_unsure_relay_ticket_gets_every_cause_in_order(
    classifier: Classifier, knowledge_base: KnowledgeBase
) -> None:
    understanding = classifier.understand("emails not sending, says relay denied. I use outlook")
    plan = plan_ticket(understanding, None, kb=knowledge_base, threshold=classifier.threshold)
    assert plan.action is TicketAction.REPLY and plan.intent == "relay.unknown_cause"
    email = compose_email(plan, name="Jo", subject="Email problem", ticket_id="T-7")
    headings = re.findall(r"^Cause (\d) of 4: (.+)$", email.text, flags=re.M)
    assert [n for n, _ in headings] == ["1", "2", "3", "4"]
    assert "File > Account Settings" in email.text  # Outlook's own steps


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Can I speak to a person please", EscalationReason.CUSTOMER_ASKED),
        ("Please cancel my hosting at the end of the month", EscalationReason.OUT_OF_SCOPE),
        ("the thing with the stuff is broken again", EscalationReason.LOW_CONFIDENCE),
    ],
)
def test_escalations(
    classifier: Classifier, knowledge_base: KnowledgeBase, message: str, reason: str
) -> None:
    plan = plan_ticket(
        classifier.understand(message), None, kb=knowledge_base, threshold=classifier.threshold
    )
    assert plan.action is TicketAction.ESCALATE and plan.reason == reason


def test_email_wraps_at_72_with_hanging_steps_and_safe_html(
    classifier: Classifier, knowledge_base: KnowledgeBase
) -> None:
    understanding = classifier.understand("550 relay not permitted from Thunderbird")
    diagnosis = _diagnosis(mx=CheckStatus.FAIL, causes=[EXTERNAL])
    plan = plan_ticket(understanding, diagnosis, kb=knowledge_base, threshold=0.55)
    email = compose_email(
        plan, name="<b>Jo</b>\r\nBcc: x@evil.test", subject="Help <script>", ticket_id="T-1"
    )
    lines = email.text.splitlines()
    assert lines[0] == "Hello <b>Jo</b> Bcc: x@evil.test,"
    assert all(len(line) <= 72 for line in lines if " " in line.strip())
    assert "When I checked bakery.test: Its MX points at mx.other-provider.test" in " ".join(lines)
    for index, line in enumerate(lines[:-1]):
        match = STEP.match(line)
        following = lines[index + 1]
        if match and following and not STEP.match(following):
            assert following.startswith(" " * len(match[0]))  # hanging indent
    flat = " ".join(email.text.split())
    assert "Your ticket reference is T-1." in flat and "reply to this email" in flat
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<b>Jo" not in email.html and "<ol><li>" in email.html
    assert email.subject == "Re: Help <script>"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("can't send", "Re: can't send"),
        ("RE: can't send", "RE: can't send"),
        ("line\r\nBcc: someone@evil.test", "Re: line Bcc: someone@evil.test"),
        ("", "Re: your email"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected
