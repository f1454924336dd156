"""Cue patterns, matched only where they can start.

Python's ``re`` tries every alternative of a pattern at every position, so a
cue such as ``hotel|wi-?fi|airport|...`` costs tens of microseconds per message
and far more on a pasted email. Each top-level alternative must begin with
some literal text (its *anchors*), so a cue finds its anchors with ``str.find``
(a scan in C) and tries that alternative's expression only at those places::

    >>> anchors("hotel|wi-?fi|\\\\bcafe\\\\b")
    ('hotel', 'w', 'cafe')
    >>> anchors("(stuck|sits) in outbox") is None      # starts with a group: always run
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_META = set("\\()[]{}?*+.|^$")
_QUANTIFIERS = set("?*+{")
MIN_ANCHOR = 1
LONG_TEXT = 300
"""From this length on, trying each alternative only at its anchors beats a full search."""


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = pattern.index("]", i + 2) + 1 if "]" in pattern[i + 2 :] else len(pattern)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _closing(text: str, start: int, opener: str, closer: str) -> int:
    """The index of the bracket closing the one at ``start``, or -1."""
    depth, i = 0, start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == opener:
            depth += 1
        elif text[i] == closer:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _optional_after(text: str, end: int) -> bool:
    following = text[end + 1 : end + 3]
    return following[:1] in ("?", "*") or following.startswith("{0")


def _alternative_anchors(alternative: str) -> tuple[str, ...] | None:
    text = alternative.removeprefix("\\b")
    if text.startswith("("):
        end = _closing(text, 0, "(", ")")
        if end < 0 or _optional_after(text, end):
            return None
        return anchors(text[1:end].removeprefix("?:"))
    if text.startswith("["):
        end = text.find("]")
        members = text[1:end]
        if end < 0 or _optional_after(text, end) or not members.isalnum():
            return None
        return tuple(members)
    prefix: list[str] = []
    for i, char in enumerate(text):
        if char in _META:
            break
        if i + 1 < len(text) and text[i + 1] in _QUANTIFIERS:
            break  # an optional character cannot be required
        prefix.append(char)
    return ("".join(prefix),) if len(prefix) >= MIN_ANCHOR else None


def anchors(pattern: str) -> tuple[str, ...] | None:
    """Substrings of which one must occur for ``pattern`` to match, or None if unknown."""
    found: list[str] = []
    for alternative in _top_level_alternatives(pattern):
        alternative_anchors = _alternative_anchors(alternative)
        if alternative_anchors is None:
            return None
        found.extend(alternative_anchors)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class _Alternative:
    anchors: tuple[str, ...]
    pattern: re.Pattern[str]

    def matches(self, folded: str) -> bool:
        for anchor in self.anchors:
            start = folded.find(anchor)
            while start >= 0:
                if self.pattern.match(folded, start):
                    return True
                start = folded.find(anchor, start + 1)
        return False


@dataclass(frozen=True)
class Cue:
    """A compiled cue: its intent's position, its weight and how to find it."""

    position: int
    weight: float
    pattern: re.Pattern[str]
    alternatives: tuple[_Alternative, ...] | None = field(default=None)
    gate: tuple[str, ...] = field(default=())

    @classmethod
    def compile(cls, position: int, weight: float, pattern: str) -> Cue:
        compiled = re.compile(pattern)
        alternatives: list[_Alternative] = []
        for alternative in _top_level_alternatives(pattern):
            found = _alternative_anchors(alternative)
            if found is None:  # no literal start: fall back to a plain search
                return cls(position, weight, compiled)
            # The anchor is where the match starts; a leading \b stays a
            # check on the character before it.
            alternatives.append(_Alternative(found, re.compile(alternative)))
        gate = tuple(dict.fromkeys(a for alt in alternatives for a in alt.anchors))
        return cls(position, weight, compiled, tuple(alternatives), gate)

    def matches(self, folded: str) -> bool:
        if self.alternatives is None:
            return self.pattern.search(folded) is not None
        if len(folded) < LONG_TEXT:
            # Short text: one cheap test for any anchor, then one search.
            if not any(anchor in folded for anchor in self.gate):
                return False
            return self.pattern.search(folded) is not None
        return any(alternative.matches(folded) for alternative in self.alternatives)
