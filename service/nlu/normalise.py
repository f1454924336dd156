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


def fold(text: str) -> str:
    """NFKC, accents removed, case folded, whitespace collapsed, delivery-report
    address types dropped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text.casefold()).strip()
    return _DSN_TYPE.sub(r"\1: ", text) if ";" in text else text


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
