"""Anchored cue matching must agree exactly with a plain regular-expression search."""

from __future__ import annotations

import json

import pytest
from support.paths import ROOT

from service.kb import KnowledgeBase
from service.nlu.anchors import anchors
from service.nlu.cues import Cue, CueSet
from service.nlu.normalise import fold


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("hotel|wi-?fi|\\bcafe\\b", ("hotel", "wi-fi", "wifi", "cafe")),
        ("\\b[345]g\\b", ("3g", "4g", "5g")),
        ("(stuck|sits) (in|on)", ("stuck in", "stuck on", "sits in", "sits on")),
        ("(?:dns|ns1) change", ("dns change", "ns1 change")),
        ("(a|b)?x", ("ax", "bx", "x")),
        ("(a|b)?", None),
        ("\\d+ ?mb", None),
        ("x*yz", None),
        ("ab+c", ("ab",)),
        ("[0-9]+ ?mb|[a-c]x", (*"0123456789", "ax", "bx", "cx")),
        ("[^a]x", None),
        ("(?=a)b", None),
        ("5\\.7\\.(?:54|64)\\b", ("5.7.54", "5.7.64")),
        ("do(?: not|n't) relay", ("do not relay", "don't relay")),
        ("a(b*c|d)e", ("a",)),
        ("ab|a", ("a",)),
    ],
)
def test_anchors(pattern: str, expected: tuple[str, ...] | None) -> None:
    assert anchors(pattern) == expected


def test_cues_agree_with_plain_search(knowledge_base: KnowledgeBase) -> None:
    texts = [fold(e) for intent in knowledge_base.intents.values() for e in intent.examples]
    holdout = (ROOT / "tests" / "data" / "holdout.jsonl").read_text().splitlines()
    texts += [fold(json.loads(line)["text"]) for line in holdout]
    texts += [" ".join(texts[i : i + 8]) for i in range(0, len(texts), 8)]  # long ones too
    texts += ["", "x", "wifi", "ünïcödé 25 mb ٥٠ mb"]
    cues = CueSet(
        [
            Cue.compile(position, cue.weight, cue.pattern)
            for position, intent in enumerate(knowledge_base.intents.values())
            for cue in intent.cues
        ]
    )
    assert any(cue.alternatives is not None for cue in cues.cues)
    for text in texts:
        expected = [i for i, cue in enumerate(cues.cues) if cue.pattern.search(text)]
        assert cues.fired(text) == expected, text


def test_overlapping_anchors_are_all_tried() -> None:
    # "re" and "relay" start at the same place; "lay" ends where "relay" does.
    cues = CueSet(
        [
            Cue.compile(0, 1.0, "relay denied"),
            Cue.compile(1, 1.0, "re(lay)? access"),
            Cue.compile(2, 1.0, "lay access"),
            Cue.compile(3, 1.0, "\\bnomatch\\b"),
        ]
    )
    assert cues.fired("relay access") == [1, 2]
    assert cues.fired("relay denied, relay access") == [0, 1, 2]
    assert CueSet([]).fired("anything") == []


def test_every_shipped_cue_is_anchored(knowledge_base: KnowledgeBase) -> None:
    # A cue without anchors is searched at every position of every message.
    unanchored = [
        cue.pattern
        for intent in knowledge_base.intents.values()
        for cue in intent.cues
        if Cue.compile(0, cue.weight, cue.pattern).alternatives is None
    ]
    assert unanchored == []
