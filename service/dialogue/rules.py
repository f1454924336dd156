"""Small pure rules the engine leans on: domains, clients, frustration, sizes."""

from __future__ import annotations

import re

from service.nlu.freemail import is_free_mail
from service.nlu.understanding import Entities

ATTACHMENT_LIMIT_MB = 30
ENCODING_GROWTH = 1.37  # base64 plus MIME line breaks: about 37% more in transit

_SERVICE_LABELS = ("mail.", "smtp.", "www.", "webmail.", "imap.", "pop.", "pop3.")
_SIZE = re.compile(r"\b(\d{1,5}(?:[.,]\d{1,2})?)\s*(gb|gig|mb|meg|megs|megabytes?|kb)\b", re.I)
_FRUSTRATION = re.compile(
    r"(useless|ridiculous|rubbish|pathetic|waste of (my )?time|not helping|unacceptable"
    r"|sort it out|fed up|this is a joke|stupid|wtf|!!!|\bffs\b|still not working again)",
    re.IGNORECASE,
)


def customer_domain(entities: Entities, given: str | None) -> str | None:
    """The customer's own domain: given, named, or their email's (not free mail).

    >>> customer_domain(Entities(domain="mail.example.co.uk"), None)
    'example.co.uk'
    """
    candidate = given or entities.domain
    if not candidate and entities.email and "@" in entities.email:
        candidate = entities.email.rsplit("@", 1)[1]
    if not candidate:
        return None
    candidate = candidate.strip().strip(".").lower()
    for label in _SERVICE_LABELS:
        if candidate.startswith(label) and candidate.count(".") >= 2:
            candidate = candidate[len(label) :]
            break
    return None if is_free_mail(candidate) else candidate


def is_frustrated(text: str) -> bool:
    """Anger markers, or shouting in capitals."""
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    return shouting or bool(_FRUSTRATION.search(text))


def size_in_mb(text: str) -> float | None:
    """The first file size mentioned, in MB."""
    match = _SIZE.search(text)
    if not match:
        return None
    value = float(match[1].replace(",", "."))
    unit = match[2].lower()
    if unit.startswith("g"):
        return value * 1024
    if unit == "kb":
        return value / 1024
    return value


def size_explanation(size_mb: float) -> str:
    """The arithmetic behind the attachment limit for one file size."""
    sent = size_mb * ENCODING_GROWTH
    verdict = (
        f"over our {ATTACHMENT_LIMIT_MB} MB limit"
        if sent > ATTACHMENT_LIMIT_MB
        else f"within our {ATTACHMENT_LIMIT_MB} MB limit"
    )
    return (
        f"Attachments grow by about 37% on their way through email, so a {size_mb:g} MB file "
        f"travels as roughly {sent:.0f} MB, which is {verdict}."
    )
