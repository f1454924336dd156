from __future__ import annotations

import pytest

from service.nlu.fallback import decide
from service.nlu.understanding import Action

THRESHOLD = 0.55
AMBIGUITY = 0.12


@pytest.mark.parametrize(
    ("intent", "top", "second", "expected"),
    [
        ("relay.auth", 0.90, 0.05, Action.ANSWER),
        ("relay.auth", 0.56, 0.30, Action.ANSWER),
        ("relay.auth", 0.50, 0.45, Action.CLARIFY),
        ("mail.size_limit", 0.60, 0.50, Action.CLARIFY),
        ("relay.auth", 0.40, 0.10, Action.ESCALATE),
        ("relay.auth", 0.20, 0.15, Action.ESCALATE),
        ("handoff.human", 0.99, 0.00, Action.ESCALATE),
        ("out_of_scope", 0.95, 0.01, Action.ESCALATE),
        ("out_of_scope", 0.40, 0.35, Action.ESCALATE),
        ("chat.thanks", 0.80, 0.10, Action.ANSWER),
    ],
)
def test_decide(intent: str, top: float, second: float, expected: Action) -> None:
    action = decide(intent, top, second, threshold=THRESHOLD, ambiguity_threshold=AMBIGUITY)
    assert action is expected
