"""The pure engine, turn by turn, with hand-built understandings and diagnoses."""

from __future__ import annotations

import pytest

from service.diagnostics.models import Cause, CheckId, CheckResult, CheckStatus, Diagnosis
from service.dialogue.engine import domain_to_check, respond, with_reference
from service.dialogue.state import ConversationState, EscalationReason, Question, Stage, Turn
from service.kb import KnowledgeBase
from service.nlu.understanding import Action, Entities, Scored, Understanding


def understood(
    text: str,
    intent: str,
    *,
    confidence: float = 0.9,
    action: Action = Action.ANSWER,
    alternative: str = "out_of_scope",
    **entities: object,
) -> Understanding:
    return Understanding(
        text=text,
        intent=intent,
        confidence=confidence,
        action=action,
        alternatives=[Scored(intent=alternative, confidence=0.05)],
        entities=Entities.model_validate(entities),
    )


def step(
    kb: KnowledgeBase,
    state: ConversationState,
    u: Understanding,
    diagnosis: Diagnosis | None = None,
    **given: str,
) -> Turn:
    return respond(state, u, diagnosis, kb=kb, **given)


@pytest.fixture
def kb(knowledge_base: KnowledgeBase) -> KnowledgeBase:
    return knowledge_base


def external_dns_diagnosis(domain: str = "bakery.test") -> Diagnosis:
    return Diagnosis(
        domain=domain,
        checks=[
            CheckResult(id=CheckId.MX, status=CheckStatus.FAIL, summary="MX points elsewhere"),
        ],
        causes=[
            Cause(
                intent="relay.external_dns",
                confidence=0.9,
                evidence=["Your domain's MX points at mx.other-provider.test, not at our servers."],
            )
        ],
        elapsed_ms=40,
        cached=False,
    )


def test_unknown_cause_asks_client_once_then_walks_the_ladder(kb: KnowledgeBase) -> None:
    state = ConversationState()
    turn = step(kb, state, understood("550 relay not permitted", "relay.unknown_cause"))
    assert turn.state.stage is Stage.AWAITING_CLIENT
    assert "Outlook" in [q.title for q in turn.reply.quick_replies]
    assert kb.get("relay.unknown_cause").answer.summary in turn.reply.text

    turn = step(kb, turn.state, understood("Thunderbird", "out_of_scope", client="thunderbird"))
    assert turn.state.stage is Stage.AWAITING_OUTCOME
    assert turn.reply.article is not None and turn.reply.article.intent == "relay.auth"
    assert turn.reply.steps == kb.get("relay.auth").answer.steps_for("thunderbird")
    assert turn.reply.text.endswith("Did that fix it?")
    assert [q.value for q in turn.reply.quick_replies] == [
        "yes",
        "still failing",
        "check my domain",
    ]

    turn = step(kb, turn.state, understood("still failing", "chat.deny"))
    assert turn.reply.article is not None and turn.reply.article.intent == "relay.port_blocked"
    assert turn.state.asked.count(Question.CLIENT) == 1
    assert turn.state.tried == ["relay.auth", "relay.port_blocked"]

    turn = step(kb, turn.state, understood("yes", "chat.affirm"))
    assert turn.resolved
    assert turn.state.stage is Stage.RESOLVED
    assert "Was this helpful?" in turn.reply.text


def test_known_client_skips_the_question(kb: KnowledgeBase) -> None:
    turn = step(
        kb,
        ConversationState(),
        understood("relay error from outlook", "relay.unknown_cause", client="outlook"),
    )
    assert turn.state.stage is Stage.AWAITING_OUTCOME
    assert turn.reply.steps == kb.get("relay.auth").answer.steps_for("outlook")
    turn = step(kb, turn.state, understood("yes it works", "chat.affirm"))
    assert turn.resolved


def test_specific_intent_starts_at_its_own_rung(kb: KnowledgeBase) -> None:
    turn = step(
        kb,
        ConversationState(),
        understood("AOL blocks port 25", "relay.port_blocked", client="outlook"),
    )
    assert turn.reply.article is not None and turn.reply.article.intent == "relay.port_blocked"


def test_ladder_exhausted_escalates_and_never_repeats_a_step(kb: KnowledgeBase) -> None:
    state = ConversationState(client="outlook", domain="bakery.test", asked=[Question.DOMAIN])
    turn = step(kb, state, understood("relay denied", "relay.unknown_cause", client="outlook"))
    seen = [turn.reply.article.intent] if turn.reply.article else []
    for _ in range(6):
        if turn.escalate:
            break
        turn = step(kb, turn.state, understood("still failing", "chat.deny"))
        if turn.reply.article:
            seen.append(turn.reply.article.intent)
    assert turn.escalate is EscalationReason.LADDER_EXHAUSTED
    assert len(seen) == len(set(seen)) == 4
    assert "{reference}" in turn.reply.text
    filled = with_reference(turn.reply, "RD-000042")
    assert all("RD-000042" in r for r in (filled.text, filled.markdown, filled.html))


def test_dns_rungs_wait_for_the_domain(kb: KnowledgeBase) -> None:
    state = ConversationState(client="outlook", tried=["relay.auth", "relay.port_blocked"])
    state.ladder = ["relay.dns_propagation", "relay.external_dns"]
    state.stage = Stage.AWAITING_OUTCOME
    turn = step(kb, state, understood("still failing", "chat.deny"))
    assert turn.state.stage is Stage.AWAITING_DOMAIN
    # Diagnostics of the domain the customer gives cut straight to external DNS.
    answer = understood("bakery.test", "out_of_scope", domain="bakery.test")
    assert domain_to_check(turn.state, answer, None) == "bakery.test"
    turn = step(kb, turn.state, answer, external_dns_diagnosis())
    assert turn.reply.article is not None and turn.reply.article.intent == "relay.external_dns"
    assert "mx.other-provider.test" in turn.reply.text


def test_diagnostics_cut_the_ladder_on_the_first_turn(kb: KnowledgeBase) -> None:
    u = understood(
        "550 relay not permitted for jo@bakery.test", "relay.unknown_cause", email="jo@bakery.test"
    )
    assert domain_to_check(ConversationState(), u, None) == "bakery.test"
    turn = step(kb, ConversationState(), u, external_dns_diagnosis())
    assert turn.reply.article is not None and turn.reply.article.intent == "relay.external_dns"
    assert "I checked bakery.test" in turn.reply.text


def test_free_mail_domain_is_not_checked(kb: KnowledgeBase) -> None:
    u = understood("relay denied, I'm jo@gmail.com", "relay.unknown_cause", email="jo@gmail.com")
    assert domain_to_check(ConversationState(), u, None) is None


@pytest.mark.parametrize(
    ("text", "intent", "reason"),
    [
        ("can I talk to a person", "handoff.human", EscalationReason.CUSTOMER_ASKED),
        ("please cancel my hosting", "out_of_scope", EscalationReason.OUT_OF_SCOPE),
    ],
)
def test_immediate_escalations(
    kb: KnowledgeBase, text: str, intent: str, reason: EscalationReason
) -> None:
    turn = step(kb, ConversationState(), understood(text, intent, action=Action.ESCALATE))
    assert turn.escalate is reason
    assert turn.state.stage is Stage.ESCALATED


def test_two_low_confidence_turns_escalate(kb: KnowledgeBase) -> None:
    vague = understood("hmm the thing", "mail.smtp_server", confidence=0.2, action=Action.ESCALATE)
    turn = step(kb, ConversationState(), vague)
    assert turn.escalate is None
    turn = step(kb, turn.state, vague)
    assert turn.escalate is EscalationReason.LOW_CONFIDENCE


def test_repeated_frustration_escalates(kb: KnowledgeBase) -> None:
    turn = step(kb, ConversationState(), understood("this is useless", "relay.unknown_cause"))
    assert turn.escalate is None
    turn = step(kb, turn.state, understood("RIDICULOUS, STILL NOT SENDING", "chat.deny"))
    assert turn.escalate is EscalationReason.FRUSTRATION


def test_clarify_offers_customer_words_and_takes_the_choice(kb: KnowledgeBase) -> None:
    u = understood(
        "email problem big file",
        "mail.size_limit",
        confidence=0.45,
        action=Action.CLARIFY,
        alternative="mail.smtp_server",
    )
    turn = step(kb, ConversationState(), u)
    assert turn.state.stage is Stage.AWAITING_CLARIFICATION
    titles = [q.title for q in turn.reply.quick_replies]
    assert len(titles) == 2 and not any(t.startswith(("mail.", "relay.")) for t in titles)
    choice = understood(titles[0], "out_of_scope", action=Action.ESCALATE)
    turn = step(kb, turn.state, choice)
    assert turn.intent == "mail.size_limit"
    assert turn.reply.article is not None


def test_size_question_gets_the_arithmetic(kb: KnowledgeBase) -> None:
    turn = step(kb, ConversationState(), understood("can I send a 25MB file?", "mail.size_limit"))
    assert "34 MB" in turn.reply.text and "over our 30 MB limit" in turn.reply.text


def test_small_talk_is_brief(kb: KnowledgeBase) -> None:
    turn = step(kb, ConversationState(), understood("hello", "chat.greeting"))
    assert turn.escalate is None and len(turn.reply.text) < 200


def test_html_is_escaped(kb: KnowledgeBase) -> None:
    turn = step(
        kb, ConversationState(), understood("<img src=x onerror=alert(1)>", "chat.greeting")
    )
    assert "<img" not in turn.reply.html


def test_respond_leaves_the_given_state_untouched(kb: KnowledgeBase) -> None:
    # Pure: the caller's state (and the lists in it) must read the same afterwards.
    state = ConversationState()
    for u in [
        understood("550 relay not permitted", "relay.unknown_cause"),
        understood("outlook", "out_of_scope", client="outlook"),
        understood("still failing", "chat.deny"),
        understood("still failing", "chat.deny"),
    ]:
        before = state.model_copy(deep=True)
        turn = step(kb, state, u)
        assert state == before
        assert turn.state.turn == state.turn + 1
        state = turn.state
    assert state.tried and state.asked
