"""An email body reduced to what the customer is asking: pure, no I/O.

Quoted replies (``>`` lines, "On ... wrote:", Outlook's "-----Original Message-----"
and "From: ... Sent: ..." blocks), signatures and the header block of a forwarded
message go; the forwarded message's own text stays, and so does a pasted or
forwarded bounce, because its SMTP reply decides what the ticket is about::

    >>> clean_email("It fails.\\n\\nThanks,\\nJo\\n\\nOn Mon, Sam wrote:\\n> old news").text
    'It fails.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BOUNCE_LINES = 40

_FORWARD = re.compile(
    r"^(?:-{2,}\s*forwarded message\s*-{2,}|begin forwarded message:"
    r"|-{2,}\s*original message\s*-{2,}\s*\(forwarded\)|fwd?:\s*-{2,})$",
    re.IGNORECASE,
)
_REPLY_HEADER = re.compile(
    r"^(?:on .{3,300}wrote:?|-{2,}\s*original message\s*-{2,}|_{10,}"
    r"|from:\s.+\s(?:sent|date):\s.+|le .{3,200} a écrit\s?:|am .{3,200} schrieb .{0,100}:)$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(
    r"^(?:from|sent|date|to|cc|bcc|subject|reply-to|importance)\s*:", re.IGNORECASE
)
_SIGNATURE = re.compile(
    r"^(?:--\s?|sent from my .+|get outlook for .+|(?:kind |best |warm |many )?regards,?"
    r"|thanks(?: again| very much| in advance)?[,!.]?|thank you[,!.]?|cheers[,!.]?"
    r"|best(?: wishes)?,?|many thanks[,!.]?|sincerely,?|yours(?: sincerely| faithfully)?,?)$",
    re.IGNORECASE,
)
_BOUNCE_MARKER = re.compile(
    r"this is the mail system at host|i'm sorry to have to inform you that your message"
    r"|undelivered mail returned to sender|delivery has failed to these recipients"
    r"|your message (?:couldn't|could not|wasn't|was not) (?:be )?delivered"
    r"|remote server returned|diagnostic information for administrators"
    r"|mail delivery (?:system|subsystem|failed)|mailer-daemon|diagnostic-code:"
    r"|final-recipient:|reporting-mta:|delivery status notification"
    r"|message could not be delivered|smtp error from remote mail server"
    r"|the following address(?:es)? failed|undeliverable:",
    re.IGNORECASE,
)
_BOUNCE_LINE = re.compile(
    r"(?<![\d.])[45]\d\d(?![\d])|[45]\.\d{1,3}\.\d{1,3}|<[^<>\s]+@[^<>\s]+>|\bsaid:"
    r"|\bhost \S+\[|\bdsn\b|\bstatus:",
    re.IGNORECASE,
)
_SIGNATURE_TAIL_LINES = 6


class Part(StrEnum):
    """What a run of lines in an email is."""

    OWN = "own"
    FORWARDED = "forwarded"
    QUOTED = "quoted"
    SIGNATURE = "signature"


_CONTENT = (Part.OWN, Part.FORWARDED)


@dataclass(frozen=True)
class CleanEmail:
    """``text``: what to read (own words, forwarded text, the bounce);
    ``prose``: the customer's own words without bounce lines, where their domain is named;
    ``bounce``: the pasted or forwarded bounce, when there was one."""

    text: str
    prose: str
    bounce: str | None


def _is_signature(lines: list[str], index: int) -> bool:
    """A sign-off or ``--`` marker followed by a few short lines (or the end)."""
    line = lines[index].strip()
    if not _SIGNATURE.match(line):
        return False
    if line.startswith("--") or line.lower().startswith(("sent from", "get outlook")):
        return True
    rest = [candidate.strip() for candidate in lines[index + 1 :] if candidate.strip()]
    tail = []
    for candidate in rest:
        if _FORWARD.match(candidate) or _REPLY_HEADER.match(candidate):
            break
        tail.append(candidate)
    return len(tail) <= _SIGNATURE_TAIL_LINES and all(len(t) <= 60 for t in tail)


def _label(lines: list[str], *, forwarded: bool) -> list[Part]:
    """The part each line belongs to, read top to bottom. In a forwarded email
    (``Fwd:`` subject) an "Original Message" block is the forwarded message."""
    parts: list[Part] = []
    state = Part.OWN
    in_headers = False
    for index, raw in enumerate(lines):
        line = raw.strip()
        if _FORWARD.match(line) or (forwarded and state is Part.OWN and _REPLY_HEADER.match(line)):
            state, in_headers = Part.FORWARDED, True
            parts.append(Part.QUOTED)  # the marker itself is not content
            continue
        if in_headers:
            if not line or _HEADER_LINE.match(line):
                parts.append(Part.QUOTED)
                continue
            in_headers = False
        if state is not Part.QUOTED and _REPLY_HEADER.match(line):
            state = Part.QUOTED
        elif state in (Part.OWN, Part.FORWARDED) and _is_signature(lines, index):
            state = Part.SIGNATURE
        if line.startswith(">") and state is not Part.QUOTED:
            parts.append(Part.QUOTED)
            continue
        parts.append(state)
    return parts


def _bounce_span(lines: list[str]) -> tuple[int, int] | None:
    """Where the first bounce in ``lines`` is: from its first marker (not a header
    line) for at most ``MAX_BOUNCE_LINES`` lines, up to the next quote header."""
    for start, line in enumerate(lines):
        if _HEADER_LINE.match(line.strip()) or not _BOUNCE_MARKER.search(line):
            continue
        end = start + 1
        while end < min(len(lines), start + MAX_BOUNCE_LINES):
            stripped = _unquote(lines[end]).strip()
            if _REPLY_HEADER.match(stripped) or _FORWARD.match(stripped):
                break
            end += 1
        block = "\n".join(lines[start:end])
        return (start, end) if _BOUNCE_LINE.search(block) else None
    return None


def _unquote(line: str) -> str:
    return re.sub(r"^(?:\s*>)+ ?", "", line)


def _bounce_text(lines: list[str]) -> str:
    kept = [_unquote(line) for line in lines]
    return _tidy([line for line in kept if not _HEADER_LINE.match(line.strip())])


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_email(body: str, subject: str = "") -> CleanEmail:
    """Split ``body`` into what to read, the customer's own prose, and any bounce."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    forwarded = bool(re.match(r"\s*(?:fwd?|fw)\s*:", subject, re.IGNORECASE))
    parts = _label(lines, forwarded=forwarded)
    kept = [line for line, part in zip(lines, parts, strict=True) if part in _CONTENT]
    dropped = [
        _unquote(line) for line, part in zip(lines, parts, strict=True) if part is Part.QUOTED
    ]
    text = _tidy(kept)
    bounce: str | None = None
    prose_lines = kept
    span = _bounce_span(kept)
    if span is not None:
        bounce = _bounce_text(kept[span[0] : span[1]])
        prose_lines = kept[: span[0]] + kept[span[1] :]
    else:
        span = _bounce_span(dropped)
        if span is not None:
            bounce = _bounce_text(dropped[span[0] : span[1]])
            text = f"{text}\n\n{bounce}".strip()
    prose = _tidy(
        [
            line
            for line in prose_lines
            if not (_BOUNCE_LINE.search(line) or _BOUNCE_MARKER.search(line))
        ]
    )
    if not text:  # nothing but quotes: read everything rather than nothing
        text = _tidy(lines)
    return CleanEmail(text=text, prose=prose, bounce=bounce)
