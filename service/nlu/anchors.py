"""Literal starts of regular expressions, and one pass that finds them all.

Python's ``re`` tries every alternative of a pattern at every position, and
testing each literal with ``str.find`` still scans the text once per literal.
A pattern whose every top-level alternative begins with literal text has
*anchors*: one of them must start wherever the pattern matches. One
Aho-Corasick automaton over all the anchors of many patterns finds every
occurrence in a single scan, and each pattern is then tried only there::

    >>> anchors("hotel|wi-?fi|\\\\bcafe\\\\b")      # optional characters spelled out
    ('hotel', 'wi-fi', 'wifi', 'cafe')
    >>> anchors("(a|b)?") is None           # it can match empty text: no anchors
    True
    >>> scanner = AnchorScanner({"wi": "wifi?", "hotel": "hotel"})
    >>> sorted(scanner.find("the hotel wifi"))
    [(4, 'hotel'), (10, 'wifi?')]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from ahocorasick_rs import AhoCorasick, Implementation

P = TypeVar("P")

_META = set("\\()[]{}?*+.|^$")
MAX_ANCHORS = 32
"""A pattern's optional characters and choices are spelled out up to this many anchors."""


def top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
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


def _class_end(pattern: str, start: int) -> int:
    """The index just past the character class opening at ``start`` (a ``]`` right after
    ``[`` or ``[^`` is a member, not the end)."""
    i = start + 1 + (pattern[start + 1 : start + 2] == "^")
    i += pattern[i : i + 1] == "]"
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return min(i + 1, len(pattern))


def _closing_paren(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at ``start``, or -1."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(text, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


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


def _piece(text: str, i: int) -> tuple[tuple[str, ...], int, bool] | None:
    """The strings the piece of pattern at ``i`` can start with, the index after it, and
    whether they are all it can match; None when it is not literal text."""
    char = text[i]
    if char == "\\":
        escaped = text[i + 1 : i + 2]
        if not escaped or escaped.isalnum():  # \d, \b, \w ...: not one literal character
            return None
        return (escaped,), i + 2, True
    if char == "[":
        end = _class_end(text, i)
        members = _class_members(text[i + 1 : end - 1]) if text[end - 1 : end] == "]" else None
        return (members, end, True) if members else None
    if char == "(":
        end = _closing_paren(text, i)
        inner = text[i + 1 : end]
        if end < 0 or (inner.startswith("?") and not inner.startswith("?:")):
            return None  # lookarounds, flags, named groups
        choices: list[str] = []
        whole = True
        for alternative in top_level_alternatives(inner.removeprefix("?:")):
            found, complete = _prefixes(alternative)
            choices.extend(found)
            whole = whole and complete
        return tuple(dict.fromkeys(choices)), end + 1, whole
    if char in _META:
        return None
    return (char,), i + 1, True


def _prefixes(text: str) -> tuple[list[str], bool]:
    """Literal strings of which one starts every match of ``text`` (at most
    ``MAX_ANCHORS``), and whether they are every string it matches."""
    prefixes = [""]
    i = 0
    while i < len(text):
        piece = _piece(text, i)
        if piece is None:
            return prefixes, False
        choices, after, whole = piece
        quantifier = text[after : after + 1]
        if quantifier in ("*", "{") or (quantifier == "?" and not whole):
            return prefixes, False  # may be absent (or repeat): what came before is all
        if quantifier == "?":
            choices, after = (*choices, ""), after + 1 + (text[after + 1 : after + 2] == "?")
        grown = [prefix + choice for prefix in prefixes for choice in choices]
        if len(grown) > MAX_ANCHORS:
            return prefixes, False
        prefixes = grown
        if quantifier == "+" or not whole:
            return prefixes, False  # it occurs at least once; what follows is unknown
        i = after
    return prefixes, True


def alternative_anchors(alternative: str) -> tuple[str, ...] | None:
    """The anchors of one top-level alternative, or None when it has none."""
    found, _ = _prefixes(alternative.removeprefix("\\b"))
    if "" in found:  # some match of it starts with no literal text
        return None
    return _shortest(found)


def _shortest(found: list[str]) -> tuple[str, ...]:
    """``found`` without the strings that start with another of them (it covers them)."""
    unique = list(dict.fromkeys(found))
    return tuple(s for s in unique if not any(s != o and s.startswith(o) for o in unique))


def anchors(pattern: str) -> tuple[str, ...] | None:
    """Substrings of which one must occur for ``pattern`` to match, or None if unknown."""
    found: list[str] = []
    for alternative in top_level_alternatives(pattern):
        starts = alternative_anchors(alternative)
        if starts is None:
            return None
        found.extend(starts)
    return _shortest(found)


class AnchorScanner(Generic[P]):
    """Every occurrence of some literal strings, each carrying its payload, in one scan."""

    def __init__(self, payloads: Mapping[str, P]) -> None:
        self._payloads = list(payloads.values())
        self._automaton = (
            AhoCorasick(list(payloads), implementation=Implementation.DFA) if payloads else None
        )

    def find(self, text: str) -> list[tuple[int, P]]:
        """(where an anchor starts, its payload) for every occurrence in ``text``,
        overlapping ones included, in the order the occurrences end."""
        if self._automaton is None:
            return []
        payloads = self._payloads
        return [
            (start, payloads[index])
            for index, start, _ in self._automaton.find_matches_as_indexes(text, overlapping=True)
        ]
