"""Anchored cue matching must agree exactly with a plain regular-expression search."""

from __future__ import annotations

import json

import pytest
from support.paths import ROOT

from service.kb import KnowledgeBase
from service.nlu.cues import LONG_TEXT, Cue, anchors
from service.nlu.normalise import fold


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("hotel|wi-?fi|\\bcafe\\b", ("hotel", "wi", "cafe")),
        ("\\b[345]g\\b", ("3", "4", "5")),
        ("(stuck|sits) in (my )?outbox", ("stuck", "sits")),
        ("(?:dns|ns1) change", ("dns", "ns1")),
        ("(a|b)?x", None),
        ("\\d+ ?mb", None),
        ("x*yz", None),
    ],
)
def test_anchors(pattern: str, expected: tuple[str, ...] | None) -> None:
    assert anchors(pattern) == expected


def test_cues_agree_with_plain_search(knowledge_base: KnowledgeBase) -> None:
    texts = [fold(e) for intent in knowledge_base.intents.values() for e in intent.examples]
    holdout = (ROOT / "tests" / "data" / "holdout.jsonl").read_text().splitlines()
    texts += [fold(json.loads(line)["text"]) for line in holdout]
    texts += [" ".join(texts[i : i + 8]) for i in range(0, len(texts), 8)]  # long ones too
    assert any(len(text) >= LONG_TEXT for text in texts)
    cues = [
        Cue.compile(0, cue.weight, cue.pattern)
        for intent in knowledge_base.intents.values()
        for cue in intent.cues
    ]
    for cue in cues:
        for text in texts:
            assert cue.matches(text) == (cue.pattern.search(text) is not None), (
                cue.pattern.pattern,
                text,
            )
