"""Fuzzy matching of a message against the training examples.

Three signals per intent, each in [0, 1]:

- ``nearest``: cosine similarity (TF-IDF over stemmed, typo-corrected words and
  word pairs) to the intent's closest training example, found through an
  inverted index so the cost follows the query's words, not the example count;
- ``centroid``: cosine similarity to the intent's average example;
- ``overlap``: rapidfuzz's ``token_set_ratio`` against the best few examples,
  which rewards a message that contains an example's words in any order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from service.nlu.spelling import Speller
from service.nlu.tokens import stem, words

FloatArray = npt.NDArray[np.float64]
RERANK_EXAMPLES = 8


def features(terms: Sequence[str]) -> Counter[str]:
    """Unigrams and adjacent pairs."""
    counts = Counter(terms)
    counts.update(f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False))
    return counts


@dataclass(frozen=True)
class MatchScores:
    """Per-intent signals, aligned with ``ExampleIndex.intents``."""

    nearest: FloatArray
    centroid: FloatArray
    overlap: FloatArray


class ExampleIndex:
    """An inverted TF-IDF index over labelled training examples (folded text)."""

    def __init__(self, labelled: Sequence[tuple[str, str]]) -> None:
        ordered = sorted(labelled, key=lambda pair: pair[0])
        self.intents: list[str] = sorted({intent for intent, _ in ordered})
        position = {intent: i for i, intent in enumerate(self.intents)}
        self._labels = np.array([position[intent] for intent, _ in ordered], dtype=np.int64)
        self._starts = np.searchsorted(self._labels, np.arange(len(self.intents)))
        self._texts = [text for _, text in ordered]

        vocabulary: Counter[str] = Counter()
        for text in self._texts:
            vocabulary.update(words(text))
        self.speller = Speller(vocabulary)

        example_features = [features(self.terms(text)) for text in self._texts]
        document_frequency: Counter[str] = Counter()
        for counts in example_features:
            document_frequency.update(counts.keys())
        total = len(example_features)
        self._idf = {
            term: math.log((1 + total) / (1 + df)) + 1.0 for term, df in document_frequency.items()
        }

        postings: dict[str, tuple[list[int], list[float]]] = {}
        centroids: dict[str, FloatArray] = {}
        intent_sizes = np.bincount(self._labels, minlength=len(self.intents)).astype(np.float64)
        for example_id, counts in enumerate(example_features):
            for term, weight in self._weights(counts).items():
                ids, values = postings.setdefault(term, ([], []))
                ids.append(example_id)
                values.append(weight)
                row = centroids.setdefault(term, np.zeros(len(self.intents)))
                row[self._labels[example_id]] += weight
        self._postings = {
            term: (np.array(ids, dtype=np.int64), np.array(values, dtype=np.float64))
            for term, (ids, values) in postings.items()
        }
        norms = np.zeros(len(self.intents))
        for row in centroids.values():
            row /= intent_sizes
            norms += row * row
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0
        self._centroids = {term: row / norms for term, row in centroids.items()}

    @property
    def example_count(self) -> int:
        return len(self._texts)

    def terms(self, folded: str) -> list[str]:
        """Stemmed terms of folded text, unknown words corrected first."""
        return [stem(self.speller.correct(word)) for word in words(folded)]

    def _weights(self, counts: Counter[str]) -> dict[str, float]:
        weights = {
            term: (1.0 + math.log(count)) * self._idf[term]
            for term, count in counts.items()
            if term in self._idf
        }
        norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
        return {term: value / norm for term, value in weights.items()}

    def match(self, folded: str) -> MatchScores:
        """Score a folded message against every intent."""
        size = len(self.intents)
        query = self._weights(features(self.terms(folded)))
        similarity = np.zeros(len(self._texts))
        centroid = np.zeros(size)
        for term, weight in query.items():
            ids, values = self._postings[term]
            similarity[ids] += weight * values
            centroid += weight * self._centroids[term]
        nearest = np.maximum.reduceat(similarity, self._starts)
        overlap = np.zeros(size)
        if query:
            count = min(RERANK_EXAMPLES, len(self._texts))
            best = np.argpartition(similarity, -count)[-count:]
            for example_id in best:
                if similarity[example_id] <= 0:
                    continue
                label = self._labels[example_id]
                score = fuzz.token_set_ratio(folded, self._texts[example_id]) / 100.0
                overlap[label] = max(overlap[label], score)
        return MatchScores(nearest=nearest, centroid=np.clip(centroid, 0.0, 1.0), overlap=overlap)
