"""The conversation engine: ``respond(state, understanding, diagnosis) -> Turn``.

Pure: no I/O, no clock. The caller loads the state, runs diagnostics when
``domain_to_check`` names a domain, calls ``respond`` and stores the result.

For a relay error the engine walks a *ladder* of causes — authentication,
port 587, DNS changes, external DNS — one rung per turn, each ending with
"Did that fix it?". A specific relay intent starts at its own rung; diagnostic
causes move to the front, and DNS rungs drop out when the DNS checks pass.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from service.diagnostics.models import CheckId, CheckStatus, Diagnosis
from service.dialogue.render import ArticleRef, QuickReply, Reply, render
from service.dialogue.rules import customer_domain, is_frustrated, size_explanation, size_in_mb
from service.dialogue.state import (
    ConversationState,
    EscalationReason,
    Option,
    Question,
    Stage,
    Turn,
)
from service.kb import KnowledgeBase, MailClient
from service.kb.articles import article_for
from service.nlu.understanding import Action, Understanding

REFERENCE = "{reference}"
"""Placeholder for the escalation reference; the caller fills it with ``with_reference``."""

LADDER = ("relay.auth", "relay.port_blocked", "relay.dns_propagation", "relay.external_dns")
CLIENT_RUNGS = frozenset({"relay.auth", "relay.port_blocked"})
DNS_RUNGS = frozenset({"relay.dns_propagation", "relay.external_dns"})
STRONG_CAUSE = 0.5
FRUSTRATION_LIMIT = 2
LOW_CONFIDENCE_LIMIT = 2

FIXED = "Did that fix it?"
OUTCOME_REPLIES = [
    QuickReply(title="Yes, it works", value="yes"),
    QuickReply(title="Still failing", value="still failing"),
    QuickReply(title="Check my domain", value="check my domain"),
]
CLIENT_REPLIES = [
    QuickReply(title="Outlook", value="Outlook"),
    QuickReply(title="Windows Mail / Outlook Express", value="Windows Mail"),
    QuickReply(title="Thunderbird", value="Thunderbird"),
    QuickReply(title="Apple Mail (Mac)", value="Apple Mail"),
    QuickReply(title="iPhone / iPad", value="iPhone"),
    QuickReply(title="Android / Gmail app", value="Android"),
    QuickReply(title="Something else", value="something else"),
]
FEEDBACK_REPLIES = [
    QuickReply(title="Yes, helpful", value="helpful"),
    QuickReply(title="Not really", value="not helpful"),
]
_YES = {"yes", "y", "yep", "yeah", "it works", "works", "fixed", "sorted", "solved"}
_STILL_FAILING = {"still failing", "no", "nope", "still not working", "same error"}
_CHECK_DOMAIN = "check my domain"


def domain_to_check(
    state: ConversationState, understanding: Understanding, given_domain: str | None
) -> str | None:
    """The domain to diagnose before this turn, if the conversation calls for it."""
    domain = customer_domain(understanding.entities, given_domain) or state.domain
    relay_topic = understanding.intent.startswith("relay.") or (state.topic or "").startswith(
        "relay."
    )
    asked_for = state.stage is Stage.AWAITING_DOMAIN or _said(understanding.text, {_CHECK_DOMAIN})
    return domain if domain and (relay_topic or asked_for) else None


def with_reference(reply: Reply, reference: str) -> Reply:
    """Fill the escalation reference into every rendering of a reply."""
    return reply.model_copy(
        update={
            "text": reply.text.replace(REFERENCE, reference),
            "markdown": reply.markdown.replace(REFERENCE, reference),
            "html": reply.html.replace(REFERENCE, reference),
        }
    )


def _said(text: str, phrases: set[str]) -> bool:
    cleaned = text.strip().strip(".!?,").casefold()
    return cleaned in phrases


class _Engine:
    def __init__(
        self,
        state: ConversationState,
        understanding: Understanding,
        diagnosis: Diagnosis | None,
        kb: KnowledgeBase,
    ) -> None:
        # The engine appends to these lists and reassigns everything else; a
        # shallow copy with fresh lists leaves the caller's state untouched.
        self.s = state.model_copy(
            update={"ladder": [*state.ladder], "tried": [*state.tried], "asked": [*state.asked]}
        )
        self.u = understanding
        if diagnosis is not None:
            self.s.diagnosis = diagnosis
        self.diagnosis = diagnosis or state.diagnosis
        self.fresh_diagnosis = diagnosis is not None
        self.kb = kb
        self.intent = understanding.intent
        self.confidence = understanding.confidence

    # -- turn results -------------------------------------------------------------

    def _turn(
        self,
        reply: Reply,
        *,
        stage: Stage,
        question: Question | None = None,
        escalate: EscalationReason | None = None,
        resolved: bool = False,
    ) -> Turn:
        self.s.stage = stage
        self.s.last_question = question
        if question and question not in self.s.asked:
            self.s.asked.append(question)
        self.s.intent, self.s.confidence = self.intent, self.confidence
        return Turn(
            state=self.s,
            intent=self.intent,
            confidence=self.confidence,
            reply=reply,
            escalate=escalate,
            resolved=resolved,
        )

    def escalate(self, reason: EscalationReason, opening: str) -> Turn:
        self.s.escalation_reason = reason
        paragraphs = [
            opening,
            f"Your reference is {REFERENCE}. They will see this whole conversation, "
            "including anything I checked and the steps you have already tried, "
            "so you won't need to repeat yourself.",
            "Someone will reply here as soon as they can; during office hours "
            "that is usually within the hour.",
        ]
        return self._turn(render(paragraphs), stage=Stage.ESCALATED, escalate=reason)

    # -- the ladder -----------------------------------------------------------------

    def _causes(self) -> list[str]:
        if self.diagnosis is None:
            return []
        return [str(c.intent) for c in self.diagnosis.causes if c.confidence >= STRONG_CAUSE]

    def _dns_looks_fine(self) -> bool:
        if self.diagnosis is None:
            return False
        status = {check.id: check.status for check in self.diagnosis.checks}
        return (
            status.get(CheckId.MX) is CheckStatus.PASS
            and status.get(CheckId.MAIL_HOST) is CheckStatus.PASS
            and not DNS_RUNGS & set(self._causes())
        )

    def _order_ladder(self, rungs: list[str]) -> list[str]:
        causes = [c for c in self._causes() if c in LADDER and c not in self.s.tried]
        ordered = causes + [r for r in rungs if r not in causes]
        if self._dns_looks_fine():
            ordered = [r for r in ordered if r not in DNS_RUNGS]
        return ordered

    def _findings(self, rung: str) -> list[str]:
        """What the checks found that bears on this rung, in plain words."""
        if self.diagnosis is None:
            return []
        domain = self.diagnosis.domain
        lines = [
            f"I checked {domain}: " + " ".join(cause.evidence)
            for cause in self.diagnosis.causes
            if str(cause.intent) == rung and cause.evidence
        ]
        if self.fresh_diagnosis and rung not in DNS_RUNGS and self._dns_looks_fine():
            lines.append(
                f"The mail records of {domain} point at our servers, so DNS is not the problem."
            )
        return lines

    def start_ladder(self, start: str, intro: list[str]) -> Turn:
        self.s.topic = start
        rungs = [r for r in LADDER if r not in self.s.tried]
        if start in rungs:
            rungs.remove(start)
            rungs.insert(0, start)
        self.s.ladder = self._order_ladder(rungs)
        return self.next_rung(intro)

    def next_rung(self, intro: list[str]) -> Turn:
        self.s.ladder = [r for r in self.s.ladder if r not in self.s.tried]
        if not self.s.ladder:
            return self.escalate(
                EscalationReason.LADDER_EXHAUSTED,
                "We've been through every usual cause of this error, so I'm handing you "
                "to a member of our support team.",
            )
        rung = self.s.ladder[0]
        if rung in CLIENT_RUNGS and self.s.client is None and Question.CLIENT not in self.s.asked:
            self.s.pending_rung = rung
            return self._turn(
                render(
                    intro,
                    question="Which mail program are you sending from? The steps differ a little.",
                    quick_replies=CLIENT_REPLIES,
                ),
                stage=Stage.AWAITING_CLIENT,
                question=Question.CLIENT,
            )
        if rung in DNS_RUNGS and self.s.domain is None and Question.DOMAIN not in self.s.asked:
            self.s.pending_rung = rung
            return self._turn(
                render(
                    intro,
                    question="What is your domain name (for example example.com)? "
                    "I can check its DNS for you.",
                ),
                stage=Stage.AWAITING_DOMAIN,
                question=Question.DOMAIN,
            )
        return self.present(rung, intro)

    def present(self, rung: str, intro: list[str]) -> Turn:
        article = article_for(self.kb, rung, self.s.client)
        self.s.tried.append(rung)
        self.s.pending_rung = None
        self.s.ladder = [r for r in self.s.ladder if r != rung]
        paragraphs = [*intro, *self._findings(rung), article.summary]
        reply = render(
            paragraphs,
            article.steps,
            FIXED,
            quick_replies=OUTCOME_REPLIES,
            article=ArticleRef(intent=article.intent, title=article.title),
        )
        return self._turn(reply, stage=Stage.AWAITING_OUTCOME, question=Question.OUTCOME)

    # -- other answers ----------------------------------------------------------------

    def answer_article(self, intent_id: str) -> Turn:
        article = article_for(self.kb, intent_id, self.s.client)
        paragraphs = [article.summary]
        if intent_id == "mail.size_limit":
            size = size_in_mb(self.u.text)
            if size is not None:
                paragraphs.append(size_explanation(size))
        self.s.topic = intent_id
        reply = render(
            paragraphs,
            article.steps,
            article.follow_up,
            article=ArticleRef(intent=article.intent, title=article.title),
        )
        return self._turn(reply, stage=Stage.ANSWERED)

    def clarify(self) -> Turn:
        top = [self.u.intent] + [a.intent for a in self.u.alternatives[:1]]
        options = [
            Option(title=self.kb.get(i).ask_as or self.kb.get(i).title, intent=i) for i in top
        ]
        self.s.options = options
        return self._turn(
            render(
                [],
                question="I want to be sure I help with the right thing. Which is closest?",
                quick_replies=[QuickReply(title=o.title, value=o.title) for o in options],
            ),
            stage=Stage.AWAITING_CLARIFICATION,
            question=Question.CLARIFY,
        )

    def chosen_option(self) -> Option | None:
        text = self.u.text.strip().casefold()
        for option in self.s.options:
            if fuzz.ratio(text, option.title.casefold()) >= 85:
                return option
        return None

    def resolve(self) -> Turn:
        return self._turn(
            render(
                ["Great, I'm glad sending works again."],
                question="Was this helpful?",
                quick_replies=FEEDBACK_REPLIES,
            ),
            stage=Stage.RESOLVED,
            question=Question.FEEDBACK,
            resolved=True,
        )

    # -- the turn -----------------------------------------------------------------------

    def absorb(self, given_client: str | None, given_domain: str | None) -> None:
        self.s.turn += 1
        client = given_client or self.u.entities.client
        if client and client in MailClient.__members__.values():
            self.s.client = client
        domain = customer_domain(self.u.entities, given_domain)
        if domain:
            self.s.domain = domain
        if is_frustrated(self.u.text):
            self.s.frustration += 1
        if self.u.action is Action.ESCALATE and self.intent not in (
            "handoff.human",
            "out_of_scope",
        ):
            self.s.low_confidence_streak += 1
        else:
            self.s.low_confidence_streak = 0

    def contextual(self) -> Turn | None:
        """Answers that depend on what the bot just asked."""
        stage, text = self.s.stage, self.u.text
        if stage is Stage.ESCALATED:
            return self._turn(
                render(
                    [
                        f"Your conversation is with our support team (reference {REFERENCE}). "
                        "I've added your message for them."
                    ]
                ),
                stage=Stage.ESCALATED,
            )
        if stage is Stage.AWAITING_CLARIFICATION:
            option = self.chosen_option()
            if option is not None:
                self.intent, self.confidence = option.intent, 1.0
                return self.by_intent(option.intent)
        if stage is Stage.AWAITING_CLIENT and self.s.pending_rung:
            return self.present(self.s.pending_rung, [])
        if stage is Stage.AWAITING_DOMAIN and self.s.pending_rung:
            if self.s.domain:
                self.s.ladder = self._order_ladder(self.s.ladder)
                return self.next_rung([])
            return self.present(self.s.pending_rung, [])
        if stage is Stage.RESOLVED and (
            _said(text, {"helpful", "not helpful"}) or self.intent.startswith("chat.")
        ):
            return self._turn(
                render(["Thanks for letting me know. Anything else I can help with?"]),
                stage=Stage.RESOLVED,
            )
        if _said(text, {_CHECK_DOMAIN}):
            if self.diagnosis is not None:
                self.s.ladder = self._order_ladder(self.s.ladder or list(LADDER))
                return self.next_rung([])
            if Question.DOMAIN in self.s.asked and self.s.last_question is Question.DOMAIN:
                return None
            return self._turn(
                render([], question="Sure — what is your domain name (for example example.com)?"),
                stage=Stage.AWAITING_DOMAIN,
                question=Question.DOMAIN,
            )
        if stage is Stage.AWAITING_OUTCOME:
            if _said(text, _YES) or self.intent in ("chat.affirm", "chat.thanks"):
                return self.resolve()
            if _said(text, _STILL_FAILING) or self.intent == "chat.deny":
                return self.next_rung(
                    ["Thanks for trying that. Let's look at the next likely cause."]
                )
            if self.intent in LADDER and self.intent not in self.s.tried:
                self.s.ladder = [self.intent, *[r for r in self.s.ladder if r != self.intent]]
                return self.next_rung([])
        return None

    def by_intent(self, intent: str) -> Turn:
        if intent == "handoff.human":
            return self.escalate(
                EscalationReason.CUSTOMER_ASKED, "Of course — I'm passing you to a person."
            )
        if intent == "out_of_scope":
            return self.escalate(
                EscalationReason.OUT_OF_SCOPE,
                "That's outside what I can sort out here, so I'm passing it to our support team.",
            )
        if intent.startswith("relay."):
            intro: list[str] = []
            if intent == "relay.unknown_cause":
                intro.append(self.kb.get("relay.unknown_cause").answer.summary)
                return self.start_ladder(LADDER[0], intro)
            return self.start_ladder(intent, intro)
        if intent.startswith("mail."):
            return self.answer_article(intent)
        if intent == "chat.greeting":
            return self._turn(
                render(
                    [
                        "Hello! I can help with sending and receiving mail, including the "
                        "'550 relay not permitted' error. What's happening?"
                    ]
                ),
                stage=self.s.stage if self.s.stage is not Stage.NEW else Stage.ANSWERED,
            )
        if intent == "chat.thanks":
            return self._turn(render(["You're welcome! Anything else?"]), stage=Stage.ANSWERED)
        return self._turn(
            render(["Could you tell me a little more about what's going wrong?"]),
            stage=Stage.ANSWERED,
        )

    def run(self, given_client: str | None, given_domain: str | None) -> Turn:
        self.absorb(given_client, given_domain)
        if self.s.stage is not Stage.ESCALATED and self.s.frustration >= FRUSTRATION_LIMIT:
            return self.escalate(
                EscalationReason.FRUSTRATION,
                "I'm sorry this has been so frustrating. I'm handing you to a person now.",
            )
        contextual = self.contextual()
        if contextual is not None:
            return contextual
        if self.u.action is Action.ESCALATE and self.intent not in (
            "handoff.human",
            "out_of_scope",
        ):
            if self.s.low_confidence_streak >= LOW_CONFIDENCE_LIMIT:
                return self.escalate(
                    EscalationReason.LOW_CONFIDENCE,
                    "I'm not sure I'm understanding you, so I'm passing you to a person.",
                )
            return self._turn(
                render(
                    [
                        "Sorry, I didn't quite follow. Could you describe the problem in a "
                        "sentence, or paste the error message you see?"
                    ]
                ),
                stage=self.s.stage,
            )
        if self.u.action is Action.CLARIFY and self.s.last_question is not Question.CLARIFY:
            return self.clarify()
        return self.by_intent(self.intent)


def respond(
    state: ConversationState,
    understanding: Understanding,
    diagnosis: Diagnosis | None,
    *,
    kb: KnowledgeBase,
    client: str | None = None,
    domain: str | None = None,
) -> Turn:
    """The bot's next turn. ``client`` and ``domain`` are what the channel was told
    explicitly (a widget field, a ticket's domain); the message may name them too."""
    return _Engine(state, understanding, diagnosis, kb).run(client, domain)
