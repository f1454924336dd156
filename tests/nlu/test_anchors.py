"""anchors(): wherever a pattern matches, one of its anchors starts there (random patterns)."""

from __future__ import annotations

import random
import re

import pytest

from service.nlu.anchors import AnchorScanner, anchors

ALPHABET = "abc .-012"


def random_pattern(rng: random.Random, depth: int = 0) -> str:
    def piece() -> str:
        kind = rng.random()
        if kind < 0.45:
            return rng.choice("abc ")
        if kind < 0.55:
            return rng.choice(["\\.", "\\-", "-", "0", "1"])
        if kind < 0.65:
            return rng.choice(["[ab]", "[0-2]", "[^a]", "[a.]", "[)a]"])
        if kind < 0.72:
            return rng.choice(["\\b", "\\d", "."])
        if kind < 0.85 and depth < 2:
            inner = "|".join(random_pattern(rng, depth + 1) for _ in range(rng.randint(1, 3)))
            return rng.choice(["(", "(?:"]) + inner + ")"
        return rng.choice("abc")

    parts = []
    for _ in range(rng.randint(1, 5)):
        part = piece()
        if rng.random() < 0.3 and part != "\\b":
            part += rng.choice(["?", "*", "+", "{1,2}", "??"])
        parts.append(part)
    return "".join(parts)


@pytest.mark.parametrize("seed", range(20))
def test_every_match_starts_at_an_anchor(seed: int) -> None:
    rng = random.Random(seed)
    checked = 0
    for _ in range(200):
        pattern = "|".join(random_pattern(rng) for _ in range(rng.randint(1, 3)))
        try:
            compiled = re.compile(pattern)
        except re.error:
            continue  # "a*??" and the like
        starts = anchors(pattern)
        if starts is None:
            continue
        assert "" not in starts, pattern
        for _ in range(10):
            text = "".join(rng.choice(ALPHABET) for _ in range(30))
            for position in range(len(text)):
                if compiled.match(text, position):
                    assert text.startswith(starts, position), (pattern, starts, text, position)
                    checked += 1
    assert checked > 0


def test_scanner_reports_overlapping_occurrences() -> None:
    scanner = AnchorScanner({"re": 1, "relay": 2, "lay": 3})
    assert sorted(scanner.find("relay")) == [(0, 1), (0, 2), (2, 3)]
    assert sorted(scanner.find("ünï relay")) == [(4, 1), (4, 2), (6, 3)]  # str indexes
    assert list(AnchorScanner({}).find("anything")) == []
