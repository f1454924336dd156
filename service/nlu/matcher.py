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
from rapidfuzz import fuzz, process

from service.nlu.spelling import Speller
from service.nlu.tokens import stem, words

FloatArray = npt.NDArray[np.float64]
RERANK_EXAMPLES = 4
TERM_CACHE_SIZE = 100_000


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
        self._term_cache: dict[str, str] = {}

        example_features = [features(self.terms(text)) for text in self._texts]
        document_frequency: Counter[str] = Counter()
        for counts in example_features:
            document_frequency.update(counts.keys())
        total = len(example_features)
        self._idf = {
            term: math.log((1 + total) / (1 + df)) + 1.0 for term, df in document_frequency.items()
        }

        # Postings live in one flat array, sorted by term, so a query gathers its
        # terms' slices and sums them with one bincount.
        postings: dict[str, list[tuple[int, float]]] = {}
        for example_id, counts in enumerate(example_features):
            for term, weight in self._weights(counts).items():
                postings.setdefault(term, []).append((example_id, weight))
        self._term_ids = {term: i for i, term in enumerate(postings)}
        width = len(self._term_ids)
        self._pair_rows = {
            self._term_ids[first] * width + self._term_ids[second]: row
            for term, row in self._term_ids.items()
            if " " in term
            for first, second in [term.split(" ")]
        }
        # Every training word is known already: a fresh index answers them as fast
        # as a warm one (unknown words are corrected on first sight, then cached).
        self._row_cache: dict[str, int] = {
            word: self._term_ids.get(term, -1) for word, term in self._term_cache.items()
        }
        flat_ids: list[int] = []
        flat_weights: list[float] = []
        starts: list[int] = []
        centroids = np.zeros((len(postings), len(self.intents)))
        for row, entries in enumerate(postings.values()):
            starts.append(len(flat_ids))
            for example_id, weight in entries:
                flat_ids.append(example_id)
                flat_weights.append(weight)
                centroids[row, self._labels[example_id]] += weight
        self._posting_start = np.array(starts, dtype=np.int64)
        self._posting_length = np.diff(np.append(self._posting_start, len(flat_ids)))
        self._flat_ids = np.array(flat_ids, dtype=np.int64)
        self._flat_weights = np.array(flat_weights, dtype=np.float64)
        intent_sizes = np.bincount(self._labels, minlength=len(self.intents)).astype(np.float64)
        centroids /= intent_sizes
        norms = np.sqrt((centroids * centroids).sum(axis=0))
        norms[norms == 0] = 1.0
        self._centroids = centroids / norms
        self._row_idf = np.array([self._idf[term] for term in postings], dtype=np.float64)

    @property
    def example_count(self) -> int:
        return len(self._texts)

    def terms(self, folded: str) -> list[str]:
        """Stemmed terms of folded text, unknown words corrected first."""
        cache = self._term_cache
        result: list[str] = []
        for word in words(folded):
            term = cache.get(word)
            if term is None:
                if len(cache) >= TERM_CACHE_SIZE:
                    cache.clear()
                term = cache[word] = stem(self.speller.correct(word))
            result.append(term)
        return result

    def _weights(self, counts: Counter[str]) -> dict[str, float]:
        weights = {
            term: (1.0 + math.log(count)) * self._idf[term]
            for term, count in counts.items()
            if term in self._idf
        }
        norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
        return {term: value / norm for term, value in weights.items()}

    def _rows(self, folded: str) -> list[int]:
        """Each word's unigram row in the index (-1 when the index lacks it)."""
        cache = self._row_cache
        result: list[int] = []
        for word in words(folded):
            row = cache.get(word)
            if row is None:
                if len(cache) >= TERM_CACHE_SIZE:
                    cache.clear()
                term = stem(self.speller.correct(word))
                row = cache[word] = self._term_ids.get(term, -1)
            result.append(row)
        return result

    def _query(self, folded: str) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """The query's known terms (as index rows) and their normalised TF-IDF weights."""
        unigrams = self._rows(folded)
        # Every word of an indexed pair is indexed itself, so pairs are looked up by
        # their words' rows, not by building "a b" strings.
        width, pair_row = len(self._term_ids), self._pair_rows.get
        rows: list[int | None] = [row for row in unigrams if row >= 0]
        rows += [
            pair_row(a * width + b)
            for a, b in zip(unigrams, unigrams[1:], strict=False)
            if a >= 0 and b >= 0
        ]
        counts = Counter(rows)  # counted in C; cheaper than numpy's unique on a few terms
        counts.pop(None, None)
        row_index = np.fromiter(counts.keys(), np.int64, len(counts))
        frequency = np.fromiter(counts.values(), np.float64, len(counts))
        weights = (1.0 + np.log(frequency)) * self._row_idf[row_index]
        norm = float(np.sqrt(weights @ weights)) or 1.0
        return row_index, weights / norm

    def match(self, folded: str) -> MatchScores:
        """Score a folded message against every intent."""
        size = len(self.intents)
        row_index, weights = self._query(folded)
        if not len(row_index):
            zeros = np.zeros(size)
            return MatchScores(nearest=zeros, centroid=zeros.copy(), overlap=zeros.copy())
        # Gather every posting of the query's terms without a Python loop.
        lengths = self._posting_length[row_index]
        ends = np.cumsum(lengths)
        offsets = np.repeat(self._posting_start[row_index] - (ends - lengths), lengths)
        positions = np.arange(ends[-1]) + offsets
        similarity = np.bincount(
            self._flat_ids[positions],
            weights=self._flat_weights[positions] * np.repeat(weights, lengths),
            minlength=len(self._texts),
        )
        centroid = np.minimum(weights @ self._centroids[row_index], 1.0)
        nearest = np.maximum.reduceat(similarity, self._starts)
        overlap = np.zeros(size)
        count = min(RERANK_EXAMPLES, len(self._texts))
        top = similarity.argpartition(-count)[-count:]
        best = top[similarity[top] > 0].tolist()
        # One ``extract`` call prepares the (long) query once for all candidates.
        ranked = process.extract(
            folded, [self._texts[i] for i in best], scorer=fuzz.token_set_ratio, limit=None
        )
        for _, ratio, position in ranked:
            label = self._labels[best[position]]
            overlap[label] = max(overlap[label], ratio / 100.0)
        return MatchScores(nearest=nearest, centroid=centroid, overlap=overlap)
