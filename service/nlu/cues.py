"""Cue patterns, found in one pass over the text.

Python's ``re`` tries every alternative of a pattern at every position, so a
cue such as ``hotel|wi-?fi|airport|...`` costs tens of microseconds per message
and far more on a pasted email; and testing each alternative's literal start
with ``str.find`` still scans the text once per literal. So each top-level
alternative must begin with some literal text (its *anchors*); one
Aho-Corasick automaton over every anchor of every cue finds all their
occurrences in a single scan, and an alternative's expression is tried only
where one of its anchors starts::

    >>> anchors("hotel|wi-?fi|\\\\bcafe\\\\b")
    ('hotel', 'wi', 'cafe')
    >>> anchors("(a|b)?x") is None      # an optional start: such a cue is always searched
    True
    >>> cues = CueSet([Cue.compile(0, 1.0, "hotel|wi-?fi")])
    >>> cues.fired("on the hotel wifi")
    [0]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

_META = set("\\()[]{}?*+.|^$")
_QUANTIFIERS = set("?*+{")
MIN_ANCHOR = 1


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


def _class_members(inside: str) -> tuple[str, ...] | None:
    """The characters of a simple class such as ``345`` or ``0-9``, else None."""
    members: list[str] = []
    i = 0
    while i < len(inside):
        if i + 2 < len(inside) and inside[i + 1] == "-":
            low, high = inside[i], inside[i + 2]
            if not (low.isalnum() and high.isalnum() and low <= high):
                return None
            members.extend(chr(c) for c in range(ord(low), ord(high) + 1))
            i += 3
        elif inside[i].isalnum():
            members.append(inside[i])
            i += 1
        else:
            return None
    return tuple(members) or None


def _alternative_anchors(alternative: str) -> tuple[str, ...] | None:
    text = alternative.removeprefix("\\b")
    if text.startswith("("):
        end = _closing(text, 0, "(", ")")
        if end < 0 or _optional_after(text, end):
            return None
        return anchors(text[1:end].removeprefix("?:"))
    if text.startswith("["):
        end = text.find("]")
        members = _class_members(text[1:end]) if end > 0 else None
        if members is None or _optional_after(text, end):
            return None
        return members
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
class Cue:
    """A compiled cue: its intent's position, its weight and how to find it.

    ``alternatives`` pairs each top-level alternative's anchors with its own
    expression; it is None when some alternative has no literal start, and then
    the whole pattern is searched.
    """

    position: int
    weight: float
    pattern: re.Pattern[str]
    alternatives: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] | None = None

    @classmethod
    def compile(cls, position: int, weight: float, pattern: str) -> Cue:
        compiled = re.compile(pattern)
        alternatives = []
        for alternative in _top_level_alternatives(pattern):
            found = _alternative_anchors(alternative)
            if found is None:  # no literal start: fall back to a plain search
                return cls(position, weight, compiled)
            # The anchor is where the match starts; a leading \b stays a
            # check on the character before it.
            alternatives.append((found, re.compile(alternative)))
        return cls(position, weight, compiled, tuple(alternatives))


class CueSet:
    """Every cue of a classifier, matched together: one scan finds all anchors."""

    def __init__(self, cues: Sequence[Cue]) -> None:
        self.cues = tuple(cues)
        by_anchor: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        self._searched: list[int] = []
        for index, cue in enumerate(self.cues):
            if cue.alternatives is None:
                self._searched.append(index)
                continue
            for found, expression in cue.alternatives:
                for anchor in found:
                    by_anchor.setdefault(anchor, []).append((index, expression))
        self._automaton: ahocorasick.Automaton | None = None
        if by_anchor:
            self._automaton = ahocorasick.Automaton()
            for anchor, tries in by_anchor.items():
                self._automaton.add_word(anchor, (len(anchor) - 1, tuple(tries)))
            self._automaton.make_automaton()

    def fired(self, folded: str) -> list[int]:
        """Indices (into ``cues``) of the cues that match ``folded``, in order."""
        found: set[int] = set()
        if self._automaton is not None:
            for end, (back, tries) in self._automaton.iter(folded):
                for index, expression in tries:
                    if index not in found and expression.match(folded, end - back):
                        found.add(index)
        for index in self._searched:
            if self.cues[index].pattern.search(folded):
                found.add(index)
        return sorted(found)
