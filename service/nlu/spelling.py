"""Typo tolerance: map an unknown word to the closest known word.

Candidates come from a symmetric-delete index (every known word and every
unknown word are reduced by one letter; shared reductions are candidates), so a
lookup costs a few dictionary probes instead of a scan of the vocabulary.
rapidfuzz's Damerau-Levenshtein distance then picks the best candidate::

    >>> speller = Speller({"changed": 3, "permitted": 5})
    >>> speller.correct("chnaged"), speller.correct("permited")
    ('changed', 'permitted')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein

MIN_LENGTH = 4


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Corrects words against a vocabulary of known words with their frequencies."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        self._frequency = dict(vocabulary)
        index: defaultdict[str, set[str]] = defaultdict(set)
        for word in self._frequency:
            if len(word) >= MIN_LENGTH and word.isalpha():
                index[word].add(word)
                for reduced in _deletes(word):
                    index[reduced].add(word)
        self._index = {key: tuple(sorted(words)) for key, words in index.items()}
        self.correct = lru_cache(maxsize=50_000)(self._correct)

    def _correct(self, word: str) -> str:
        if word in self._frequency or len(word) < MIN_LENGTH or not word.isalpha():
            return word
        candidates: set[str] = set(self._index.get(word, ()))
        for reduced in _deletes(word):
            candidates.update(self._index.get(reduced, ()))
        if not candidates:
            return word
        limit = 1 if len(word) <= 5 else 2
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            distance = DamerauLevenshtein.distance(word, candidate, score_cutoff=limit)
            if distance > limit:
                continue
            key = (distance, -self._frequency[candidate], candidate)
            if best is None or key < best:
                best = key
        return best[2] if best else word
