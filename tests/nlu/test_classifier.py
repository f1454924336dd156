"""The classifier on messages written for these tests (not training examples)."""

from __future__ import annotations

import pytest

from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.nlu.understanding import Action


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "My Brother laser printer won't scan to email anymore: 550 relay not permitted. "
            "There's an SMTP-AUTH option in its web page which is off.",
            "relay.auth",
        ),
        (
            "set up outlook on the new surface laptop, now outgoing mail gets relaying denied",
            "relay.auth",
        ),
        (
            "I'm at Heathrow on the airport wifi and every send fails, relay not permitted",
            "relay.port_blocked",
        ),
        ("outgoing mail times out on port 25 from my AOL connection", "relay.port_blocked"),
        (
            "we pointed the nameservers at you last night and now mail bounces: "
            "relay access denied",
            "relay.dns_propagation",
        ),
        (
            "Our zone is on Route 53. What MX record do we need? "
            "Senders see 550 5.7.1 unable to relay",
            "relay.external_dns",
        ),
        (
            "Reporting-MTA: dns; mx.example.net\nStatus: 5.7.1\n"
            "Diagnostic-Code: smtp; 550 5.7.1 <kim@example.org>... Relaying denied",
            "relay.unknown_cause",
        ),
        ("relay access denied", "relay.unknown_cause"),
        ("what port and server do I put in the copier for outgoing mail?", "mail.smtp_server"),
        ("how big an attachment can I send?", "mail.size_limit"),
        ("should I pick pop or imap on my phone", "mail.pop3_vs_imap"),
        ("how can I add a new mailbox for our new receptionist", "mail.create_mailbox"),
        ("I'd like to speak to an actual human being please", "handoff.human"),
        (
            "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
            "out_of_scope",
        ),
        (
            "554 5.7.1 Service unavailable; Client host [203.0.113.7] "
            "blocked using zen.spamhaus.org",
            "out_of_scope",
        ),
        ("535 5.7.8 Error: authentication failed: authentication failure", "out_of_scope"),
        ("Could you relay this message to your billing team, the invoice is wrong", "out_of_scope"),
        ("my wordpress site shows a white screen", "out_of_scope"),
        # Not mail: a refused connection to FTP is no blocked SMTP port.
        ("connection refused whenever I open FTP to upload the site", "out_of_scope"),
        ("which TXT value do I need for SPF so Outlook.com stops junking us?", "out_of_scope"),
        (
            "Remote-MTA: dns; mx2.example.com\nReporting-MTA: dns; out.example.net\n"
            "Diagnostic-Code: smtp; 553 sorry, that domain isn't in my list of allowed rcpthosts",
            "relay.unknown_cause",
        ),
        ("hiya", "chat.greeting"),
        ("cheers, that sorted it", "chat.thanks"),
    ],
)
def test_intent(classifier: Classifier, text: str, intent: str) -> None:
    assert classifier.understand(text).intent == intent


def test_typos_are_tolerated(classifier: Classifier) -> None:
    understanding = classifier.understand("realy not permited wen i send emials from outlok")
    assert understanding.intent.startswith("relay.")


def test_the_reply_text_decides_not_the_number(classifier: Classifier) -> None:
    relay = classifier.understand("bounce says 550 relay not permitted")
    unknown_user = classifier.understand("bounce says 550 5.1.1 user unknown")
    assert relay.intent.startswith("relay.")
    assert unknown_user.intent == "out_of_scope"
    assert unknown_user.entities.smtp_code == relay.entities.smtp_code == "550"


def test_escalations_and_answers(classifier: Classifier) -> None:
    assert classifier.understand("operator").action is Action.ESCALATE
    assert classifier.understand("what's the weather in Leeds").action is Action.ESCALATE
    assert classifier.understand("how do I create a mailbox?").action is Action.ANSWER


def test_confidences_are_a_distribution(classifier: Classifier) -> None:
    understanding = classifier.understand("relay denied from thunderbird")
    total = understanding.confidence + sum(a.confidence for a in understanding.alternatives)
    assert 0.0 < understanding.confidence <= 1.0
    assert total <= 1.0 + 1e-6
    assert len(understanding.alternatives) == 3
    assert understanding.entities.client == "thunderbird"


def test_huge_input_is_bounded(classifier: Classifier) -> None:
    understanding = classifier.understand("relay " * 20_000)
    assert understanding.intent.startswith("relay.")


def test_every_training_example_is_recognised(
    classifier: Classifier, knowledge_base: KnowledgeBase
) -> None:
    """The classifier agrees with nearly all of its own training data."""
    total = wrong = 0
    for intent in knowledge_base.intents.values():
        for example in intent.examples:
            total += 1
            wrong += classifier.understand(example).intent != intent.id
    assert wrong / total < 0.05
