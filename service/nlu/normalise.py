"""Text normalisation: unicode, case, whitespace, and email noise (quotes, signatures).

>>> normalise("  Relay NOT permitted\\u00a0!! ")
'relay not permitted !!'
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_QUOTE_HEADER = re.compile(
    r"^(on .{3,200} wrote:|-{2,} ?original message ?-{2,}|-{2,} ?forwarded message ?-{2,}"
    r"|begin forwarded message:|from: .+ sent: .+)$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(-- ?|_{5,}|sent from my \w+.*)$", re.IGNORECASE)
# A delivery report's address types ("Reporting-MTA: dns; mx.example.net") are protocol,
# not words: "dns" there says nothing about the customer's DNS.
_DSN_TYPE = re.compile(r"(-mta|-code|-recipient): ?(?:dns|smtp|rfc822|x-\w+); ?")
# What mail programs print around every SMTP reply: the same words in every dialog, so
# they say nothing about the cause ("internet service provider (isp)" is no ISP clue).
_DIALOG_BOILERPLATE = re.compile(
    r" ?(?:your outgoing \(smtp\) e-?mail server has reported an internal error"
    r"|if you continue to receive this message, contact your server administrator"
    r" or internet service provider \(isp\)"
    r"|select a different outgoing mail server from the list below or click try later"
    r" to leave the message in your outbox until it can be sent)\.?"
)


def fold(text: str) -> str:
    """NFKC, accents removed, case folded, whitespace collapsed; delivery-report
    address types and mail-program dialog boilerplate dropped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text.casefold()).strip()
    if ";" in text:
        text = _DSN_TYPE.sub(r"\1: ", text)
    if "server" in text:
        text = _DIALOG_BOILERPLATE.sub("", text)
    return text


def strip_email_noise(text: str) -> str:
    """Drop quoted lines (``>``), everything from a quote header or a signature marker on.

    Pasted bounces are indented, not quoted, so they stay.
    """
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if _QUOTE_HEADER.match(stripped) or _SIGNATURE.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    cleaned = "\n".join(kept).strip()
    return cleaned or text.strip()


def normalise(text: str) -> str:
    """The form the matcher compares: email noise removed, then folded."""
    return fold(strip_email_noise(text))
