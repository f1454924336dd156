"""Email bodies reduced to what the customer asks: quotes, signatures, forward headers out."""

from __future__ import annotations

import pytest
from support.emails import (
    EXCHANGE_BOUNCE,
    FORWARDED_WITH_THREAD,
    POSTFIX_BOUNCE,
)

from service.tickets.cleaning import clean_email


def test_forwarded_message_keeps_its_text_and_drops_headers_thread_and_signature() -> None:
    email = clean_email(FORWARDED_WITH_THREAD, "Fwd: email not sending")
    assert "550 relay not permitted" in email.text
    assert "Can you help Sam?" in email.text
    for gone in ("From:", "Subject:", "Forwarded message", "printer", "mailbox is full", "wrote:"):
        assert gone not in email.text
    assert "Thanks,\nJo" not in email.text
    assert email.bounce is None


def test_postfix_bounce_below_an_original_message_header_is_kept() -> None:
    email = clean_email(POSTFIX_BOUNCE, "FW: Undelivered Mail Returned to Sender")
    assert email.bounce is not None
    assert "Relay access denied" in email.text
    assert email.bounce.startswith("This is the mail system at host")
    assert "From: MAILER-DAEMON" not in email.text and "Sent:" not in email.text
    assert "flour-mill" not in email.prose  # the recipient's domain is not the customer's


def test_pasted_exchange_bounce_stays_and_leaves_the_prose() -> None:
    email = clean_email(EXCHANGE_BOUNCE, "Undeliverable: invoice")
    assert email.bounce is not None and "5.7.54" in email.bounce
    assert "Unable to relay" in email.text
    assert email.prose == "Why does this keep happening?? It's every email to our accountant."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "It still fails.\n\nOn Mon, 1 Dec 2025, Support wrote:\n> Try port 587",
            "It still fails.",
        ),
        ("It still fails.\n-- \nJo Baker\nBakery Hove", "It still fails."),
        ("It still fails.\n\nSent from my iPhone", "It still fails."),
        (
            "It still fails.\n\nKind regards,\nJo Baker\nBakery Hove Ltd\n01273 000000",
            "It still fails.",
        ),
        (
            "It still fails.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n"
            "Subject: RE: relay\n\nPlease try port 587",
            "It still fails.",
        ),
        (
            "Thanks, I tried that.\nStill 550 relay denied.",
            "Thanks, I tried that.\nStill 550 relay denied.",
        ),
        ("> only a quote", "> only a quote"),
    ],
)
def test_quotes_and_signatures_go(body: str, expected: str) -> None:
    assert clean_email(body).text == expected
