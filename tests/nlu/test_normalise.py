from __future__ import annotations

import pytest

from service.nlu.normalise import fold, normalise, strip_email_noise
from service.nlu.spelling import Speller
from service.nlu.tokens import terms


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Relay NOT Permitted", "relay not permitted"),
        ("  lots   of\n\twhitespace ", "lots of whitespace"),
        ("Número de error", "numero de error"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("STRASSE straße", "strasse strasse"),
        ("550\u00a0relay", "550 relay"),
        (
            "Reporting-MTA: dns; mx.example.net\nDiagnostic-Code: smtp;550 denied",
            "reporting-mta: mx.example.net diagnostic-code: 550 denied",
        ),
        ("our dns; the registrar's", "our dns; the registrar's"),
        (
            "reported error (0x800CCC79): 'Your outgoing (SMTP) e-mail server has reported an"
            " internal error. If you continue to receive this message, contact your server"
            " administrator or Internet service provider (ISP). The server responded: 550'",
            "reported error (0x800ccc79): ' the server responded: 550'",
        ),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_quoted_reply_and_signature_are_dropped() -> None:
    text = (
        "Sending fails with relay not permitted.\n"
        "--\nJo Bloggs\nBakery Ltd\n"
        "On Mon, 3 Jun 2024 at 10:00, Support <help@example.com> wrote:\n"
        "> Have you tried turning it off?\n"
    )
    assert normalise(text) == "sending fails with relay not permitted."


def test_quoted_lines_inside_are_dropped_but_indented_bounce_kept() -> None:
    text = "see below\n> quoted line\n    550 relay not permitted\n"
    assert strip_email_noise(text) == "see below\n    550 relay not permitted"


def test_message_that_is_only_quote_is_kept() -> None:
    assert strip_email_noise("> only a quote") == "> only a quote"


def test_terms_use_placeholders_and_stems() -> None:
    assert terms(fold("Relaying denied for jo@example.com 5.7.1 via mail.example.co.uk")) == [
        "relay",
        "deni",
        "for",
        "zzemail",
        "x5_7_1",
        "via",
        "zzdomain",
    ]


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [
        ("chnaged", "changed"),
        ("permited", "permitted"),
        ("emials", "emails"),
        ("yesterdy", "yesterday"),
    ],
)
def test_speller_fixes_single_edits(typo: str, fixed: str) -> None:
    speller = Speller({"changed": 3, "charged": 1, "permitted": 5, "emails": 4, "yesterday": 2})
    assert speller.correct(typo) == fixed


def test_speller_leaves_unknown_words_and_short_words() -> None:
    speller = Speller({"changed": 3})
    assert speller.correct("xylophone") == "xylophone"
    assert speller.correct("cat") == "cat"
