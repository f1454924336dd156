"""Cue patterns (``cues:`` in an intent's file), all matched in one pass over the text.

A cue such as ``hotel|wi-?fi|airport|...`` searched as it is costs tens of
microseconds per message and far more on a pasted email. So each top-level
alternative is tried only where one of its anchors starts (see ``anchors``);
a cue with an alternative that has none is searched as it is::

    >>> cues = CueSet([Cue.compile(0, 1.0, "hotel|wi-?fi")])
    >>> cues.fired("on the hotel wifi")
    [0]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from service.nlu.anchors import AnchorScanner, alternative_anchors, top_level_alternatives


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
        for alternative in top_level_alternatives(pattern):
            found = alternative_anchors(alternative)
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
        tries: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        self._searched: list[int] = []
        for index, cue in enumerate(self.cues):
            if cue.alternatives is None:
                self._searched.append(index)
                continue
            for found, expression in cue.alternatives:
                for anchor in found:
                    tries.setdefault(anchor, []).append((index, expression))
        self._scanner = AnchorScanner({anchor: tuple(t) for anchor, t in tries.items()})

    def fired(self, folded: str) -> list[int]:
        """Indices (into ``cues``) of the cues that match ``folded``, in order."""
        found: set[int] = set()
        for start, tries in self._scanner.find(folded):
            for index, expression in tries:
                if index not in found and expression.match(folded, start):
                    found.add(index)
        for index in self._searched:
            if self.cues[index].pattern.search(folded):
                found.add(index)
        return sorted(found)
