"""The fallback rule: when to answer, when to ask, when to hand over.

Like Rasa's FallbackClassifier: a ``threshold`` on the top confidence and an
``ambiguity_threshold`` on the gap between the top two. Two close readings that
together are confident make a question ("which of these?"); a weak reading
escalates::

    >>> decide("relay.auth", 0.9, 0.05, threshold=0.55, ambiguity_threshold=0.12)
    <Action.ANSWER: 'answer'>
    >>> decide("relay.auth", 0.48, 0.40, threshold=0.55, ambiguity_threshold=0.12)
    <Action.CLARIFY: 'clarify'>
    >>> decide("relay.auth", 0.30, 0.10, threshold=0.55, ambiguity_threshold=0.12)
    <Action.ESCALATE: 'escalate'>
"""

from __future__ import annotations

import logging

from service.nlu.understanding import Action

log = logging.getLogger(__name__)

ALWAYS_ESCALATE = frozenset({"handoff.human", "out_of_scope"})


def decide(
    intent: str,
    top: float,
    second: float,
    *,
    threshold: float,
    ambiguity_threshold: float,
) -> Action:
    """The action for an intent with confidence ``top`` and runner-up ``second``."""
    if intent in ALWAYS_ESCALATE:
        action = Action.ESCALATE
    elif top - second < ambiguity_threshold and top + second >= threshold:
        action = Action.CLARIFY
    elif top < threshold:
        action = Action.ESCALATE
    else:
        action = Action.ANSWER
    log.debug("fallback: %s top=%.3f second=%.3f -> %s", intent, top, second, action)
    return action
