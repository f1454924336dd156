"""What to answer a ticket with, and the email that says it. Pure: no I/O, no clock.

``plan_ticket`` decides (reply or escalate, which causes in which order, what the
checks found); ``compose_email`` writes it as a polite email::

    plan = plan_ticket(understanding, diagnosis, kb=kb, threshold=0.55)
    email = compose_email(plan, name="Jo", subject="can't send", ticket_id="T-1001")
    email.subject   # 'Re: can't send'
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, field

from service.diagnostics.models import CheckId, CheckStatus, Diagnosis
from service.dialogue.engine import DNS_RUNGS, LADDER, STRONG_CAUSE
from service.dialogue.rules import size_explanation, size_in_mb
from service.dialogue.state import EscalationReason
from service.kb import KnowledgeBase
from service.kb.articles import article_for
from service.nlu.understanding import Action, ReplyKind, Understanding
from service.redact import mask_secrets
from service.tickets.models import EmailReply, TicketAction

WIDTH = 72
UNKNOWN_CAUSE = "relay.unknown_cause"
_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Cause:
    """One cause to walk the customer through: its article, tailored to their client."""

    title: str
    summary: str
    steps: list[str]


@dataclass(frozen=True)
class TicketPlan:
    """The decision for one ticket; ``causes`` are in the order to try them."""

    action: TicketAction
    intent: str
    confidence: float
    reason: EscalationReason | None = None
    meaning: str | None = None
    findings: list[str] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closing: str | None = None


# -- deciding ------------------------------------------------------------------------------


def _strong_causes(diagnosis: Diagnosis | None) -> list[str]:
    if diagnosis is None:
        return []
    return [
        str(c.intent)
        for c in diagnosis.causes
        if c.confidence >= STRONG_CAUSE and str(c.intent) in LADDER
    ]


def dns_looks_fine(diagnosis: Diagnosis | None) -> bool:
    """MX and the mail host point at us, and no DNS cause was found."""
    if diagnosis is None:
        return False
    status = {check.id: check.status for check in diagnosis.checks}
    return (
        status.get(CheckId.MX) is CheckStatus.PASS
        and status.get(CheckId.MAIL_HOST) is CheckStatus.PASS
        and not DNS_RUNGS & set(_strong_causes(diagnosis))
    )


def relay_order(intent: str, diagnosis: Diagnosis | None) -> list[str]:
    """The causes to try, in order: what the checks found first, then the intent's own
    (every cause, by likelihood, when the cause is unknown); DNS causes drop out when
    the checks show DNS is fine."""
    found = _strong_causes(diagnosis)
    wanted = list(LADDER) if intent == UNKNOWN_CAUSE else [intent]
    order = found + [rung for rung in wanted if rung not in found]
    if dns_looks_fine(diagnosis):
        order = [rung for rung in order if rung not in DNS_RUNGS] or [
            rung for rung in LADDER if rung not in DNS_RUNGS
        ]
    return order


def findings(diagnosis: Diagnosis | None) -> list[str]:
    """What the checks found, in plain words."""
    if diagnosis is None or all(c.status is CheckStatus.SKIPPED for c in diagnosis.checks):
        return []
    domain = diagnosis.domain
    lines = [
        f"When I checked {domain}: " + " ".join(cause.evidence)
        for cause in diagnosis.causes
        if cause.evidence and cause.confidence >= STRONG_CAUSE
    ]
    if dns_looks_fine(diagnosis):
        lines.append(
            f"The mail records of {domain} point at our servers, so DNS is not the problem."
        )
    if not lines:
        problems = [
            c.summary
            for c in diagnosis.checks
            if c.status in (CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.ERROR)
        ]
        if problems:
            lines.append(f"When I checked {domain}: " + " ".join(problems[:3]))
        else:
            lines.append(f"I checked {domain} and its DNS and our mail server look fine.")
    return lines


def _relay_family_confidence(understanding: Understanding) -> float:
    scored = [(understanding.intent, understanding.confidence)] + [
        (a.intent, a.confidence) for a in understanding.alternatives
    ]
    return sum(conf for intent, conf in scored if intent.startswith("relay."))


def _escalate(understanding: Understanding, reason: EscalationReason) -> TicketPlan:
    return TicketPlan(
        action=TicketAction.ESCALATE,
        intent=understanding.intent,
        confidence=understanding.confidence,
        reason=reason,
    )


def plan_ticket(
    understanding: Understanding,
    diagnosis: Diagnosis | None,
    *,
    kb: KnowledgeBase,
    threshold: float,
) -> TicketPlan:
    """Reply or escalate, and with what. Escalates on handoff.human, out_of_scope and low
    confidence; when the ticket shows a relay error and the classifier is unsure which
    cause but the relay intents together are sure, the ticket is a relay error of
    unclear cause and gets every cause in order."""
    intent, confidence = understanding.intent, understanding.confidence
    if intent == "handoff.human":
        return _escalate(understanding, EscalationReason.CUSTOMER_ASKED)
    if intent == "out_of_scope":
        return _escalate(understanding, EscalationReason.OUT_OF_SCOPE)
    if understanding.action is not Action.ANSWER:
        family = _relay_family_confidence(understanding)
        shows_relay_error = understanding.entities.reply_kind is ReplyKind.RELAY
        if shows_relay_error and family >= threshold:
            intent, confidence = UNKNOWN_CAUSE, round(family, 4)
        elif understanding.action is Action.ESCALATE or confidence < threshold:
            return _escalate(understanding, EscalationReason.LOW_CONFIDENCE)
    client = understanding.entities.client
    if intent.startswith("relay."):
        order = relay_order(intent, diagnosis)
        causes = [article_for(kb, rung, client) for rung in order]
        meaning = kb.get(UNKNOWN_CAUSE).answer.summary
        if len(causes) == 1:  # "work through the causes below" would not fit
            meaning = _SENTENCE_END.split(meaning, maxsplit=1)[0]
        return TicketPlan(
            action=TicketAction.REPLY,
            intent=intent,
            confidence=confidence,
            meaning=meaning,
            findings=findings(diagnosis),
            causes=[Cause(a.title, a.summary, a.steps) for a in causes],
        )
    if intent.startswith("mail."):
        article = article_for(kb, intent, client)
        notes = []
        size = size_in_mb(understanding.text) if intent == "mail.size_limit" else None
        if size is not None:
            notes.append(size_explanation(size))
        return TicketPlan(
            action=TicketAction.REPLY,
            intent=intent,
            confidence=confidence,
            causes=[Cause(article.title, article.summary, article.steps)],
            notes=notes,
            closing=article.follow_up,
        )
    return TicketPlan(  # small talk: brief and polite
        action=TicketAction.REPLY,
        intent=intent,
        confidence=confidence,
        notes=[_SMALL_TALK.get(intent, _SMALL_TALK["chat.greeting"])],
    )


_SMALL_TALK = {
    "chat.thanks": "You're welcome, and thank you for letting us know.",
    "chat.affirm": "Thank you for letting us know.",
    "chat.greeting": (
        "I can help with sending and receiving email, including the '550 relay not "
        "permitted' error. Could you reply with what is happening and the exact error "
        "message you see?"
    ),
    "chat.deny": (
        "Sorry that's still not right. Could you reply with what is happening and the "
        "exact error message you see?"
    ),
}


# -- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Para:
    text: str


@dataclass(frozen=True)
class _Heading:
    text: str


@dataclass(frozen=True)
class _Steps:
    items: list[str]


_Block = _Para | _Heading | _Steps


def one_line(text: str, *, limit: int = 200) -> str:
    """Collapse whitespace (no header injection through CR/LF) and cap the length."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, without stacking ``Re: Re:``."""
    flat = one_line(mask_secrets(subject), limit=250) or "your email"
    return flat if flat.lower().startswith("re:") else f"Re: {flat}"


def _blocks(plan: TicketPlan, *, name: str | None, subject: str, ticket_id: str) -> list[_Block]:
    greeting = f"Hello {one_line(name, limit=100)}," if name and name.strip() else "Hello,"
    topic = one_line(mask_secrets(subject), limit=120)
    blocks: list[_Block] = [_Para(greeting)]
    blocks.append(
        _Para(
            f'Thank you for your email about "{topic}".' if topic else "Thank you for your email."
        )
    )
    if plan.meaning:
        blocks.append(_Para(plan.meaning))
    if plan.findings:
        blocks.append(_Heading("What our checks found"))
        blocks += [_Para(line) for line in plan.findings]
    if len(plan.causes) > 1:  # the meaning says to work through them in order
        for number, cause in enumerate(plan.causes, start=1):
            blocks.append(_Heading(f"Cause {number} of {len(plan.causes)}: {cause.title}"))
            blocks.append(_Para(cause.summary))
            if cause.steps:
                blocks.append(_Steps(cause.steps))
    elif plan.causes:
        cause = plan.causes[0]
        if plan.meaning:
            blocks.append(_Heading(f"The likely cause: {cause.title}"))
        blocks.append(_Para(cause.summary))
        if cause.steps:
            blocks.append(_Steps(cause.steps))
    blocks += [_Para(note) for note in plan.notes]
    if plan.closing:
        blocks.append(_Para(plan.closing))
    blocks.append(
        _Para(
            f"Your ticket reference is {one_line(ticket_id, limit=200)}. If this doesn't sort "
            "it out, just reply to this email and a member of our support team will take "
            "it from there; you won't need to explain it all again."
        )
    )
    blocks.append(_Para("Kind regards,\nThe support team"))
    return blocks


def _wrap(text: str, *, initial: str = "", subsequent: str = "") -> str:
    return "\n".join(
        textwrap.fill(
            line,
            width=WIDTH,
            initial_indent=initial if index == 0 else subsequent,
            subsequent_indent=subsequent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for index, line in enumerate(text.split("\n"))
    )


def _text(blocks: list[_Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, _Steps):
            width = len(f"{len(block.items)}. ")
            parts.append(
                "\n".join(
                    _wrap(item, initial=f"{n}. ".ljust(width), subsequent=" " * width)
                    for n, item in enumerate(block.items, start=1)
                )
            )
        else:
            parts.append(_wrap(block.text))
    return "\n\n".join(parts) + "\n"


def _html(blocks: list[_Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, _Steps):
            items = "".join(f"<li>{html.escape(item)}</li>" for item in block.items)
            parts.append(f"<ol>{items}</ol>")
        elif isinstance(block, _Heading):
            parts.append(f"<p><strong>{html.escape(block.text)}</strong></p>")
        else:
            lines = [html.escape(line) for line in block.text.split("\n")]
            parts.append(f"<p>{'<br>'.join(lines)}</p>")
    return "".join(parts)


def compose_email(
    plan: TicketPlan, *, name: str | None, subject: str, ticket_id: str
) -> EmailReply:
    """The reply email: greeting by name, what the error means, the causes and their
    steps, what the checks found, the ticket reference and how to reach a person."""
    blocks = _blocks(plan, name=name, subject=subject, ticket_id=ticket_id)
    return EmailReply(subject=reply_subject(subject), text=_text(blocks), html=_html(blocks))
