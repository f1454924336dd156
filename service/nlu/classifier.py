"""The classifier: fuzzy matches, cues and entities combined into an ``Understanding``.

Each intent's score is a weighted sum of the matcher's signals, the intent's
cue patterns (``cues:`` in its YAML file) and what the SMTP reply in the text
says it is; a softmax turns the scores into confidences::

    >>> from pathlib import Path
    >>> from service.kb import load_knowledge_base
    >>> classifier = Classifier.build(load_knowledge_base(Path("intents")))
    >>> classifier.understand("550 relay not permitted from outlook").intent
    'relay.unknown_cause'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.kb import KnowledgeBase
from service.nlu.cues import Cue, CueSet
from service.nlu.entities import extract_entities
from service.nlu.fallback import decide
from service.nlu.matcher import ExampleIndex, FloatArray
from service.nlu.normalise import fold, strip_email_noise
from service.nlu.understanding import Entities, ReplyKind, Scored, Understanding

MAX_CHARS = 10_000
ALTERNATIVES = 3

_NOT_RELAY = {"relay.": -0.35, "out_of_scope": 0.35}
REPLY_KIND_BIAS: dict[ReplyKind, dict[str, float]] = {
    ReplyKind.RELAY: {"relay.": 0.25, "out_of_scope": -0.3, "chat.": -0.3, "mail.": -0.4},
    ReplyKind.USER_UNKNOWN: _NOT_RELAY,
    ReplyKind.BLOCKED: _NOT_RELAY,
    ReplyKind.AUTH_FAILED: _NOT_RELAY,
    ReplyKind.TEMPORARY: _NOT_RELAY,
    ReplyKind.OTHER: _NOT_RELAY,
    ReplyKind.SIZE: {"mail.size_limit": 0.45, "relay.": -0.35},
    ReplyKind.CONNECTION: {"relay.port_blocked": 0.25},
}
"""How the kind of SMTP reply found in the text shifts scores (keys are id prefixes)."""

NO_CLUE_INTENT = "relay.unknown_cause"
CLUE_PENALTY = 0.3
"""relay.unknown_cause is the reading with no clue to the cause: when another relay
intent's cues fire, there is a clue, so it steps back."""

ISP_BONUS = 0.2
"""A named ISP is the port-25 article's clue."""

SMALL_TALK_MAX_WORDS = 8
SMALL_TALK_PENALTY = 0.5
"""Small talk is short; a long message that says "no" or "thanks" is about something else."""


@dataclass(frozen=True)
class Weights:
    """How the signals combine; ``temperature`` sets how sharp confidences are."""

    nearest: float = 1.0
    centroid: float = 0.5
    overlap: float = 0.3
    temperature: float = 0.1


def _bias_vector(intents: list[str], bias: dict[str, float]) -> FloatArray:
    vector = np.zeros(len(intents))
    for i, intent in enumerate(intents):
        for prefix, value in bias.items():
            if intent == prefix or (prefix.endswith(".") and intent.startswith(prefix)):
                vector[i] += value
    return vector


class Classifier:
    """Turns text into an ``Understanding``; build once, use from any thread."""

    def __init__(
        self,
        index: ExampleIndex,
        cues: CueSet,
        *,
        threshold: float,
        ambiguity_threshold: float,
        weights: Weights,
    ) -> None:
        self.index = index
        self.intents = index.intents
        self.threshold = threshold
        self.ambiguity_threshold = ambiguity_threshold
        self.weights = weights
        self._cues = cues
        self._no_clue = self.intents.index(NO_CLUE_INTENT)
        self._clue_positions = frozenset(
            i for i, intent in enumerate(self.intents) if intent.startswith("relay.")
        ) - {self._no_clue}
        self._port_blocked = self.intents.index("relay.port_blocked")
        self._small_talk = np.array([intent.startswith("chat.") for intent in self.intents])
        self._reply_bias = {
            kind: _bias_vector(self.intents, bias) for kind, bias in REPLY_KIND_BIAS.items()
        }

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        *,
        threshold: float = 0.55,
        ambiguity_threshold: float = 0.12,
        weights: Weights | None = None,
    ) -> Classifier:
        labelled = [
            (intent.id, fold(example))
            for intent in kb.intents.values()
            for example in intent.examples
        ]
        index = ExampleIndex(labelled)
        cues = CueSet(
            [
                Cue.compile(index.intents.index(intent.id), cue.weight, cue.pattern)
                for intent in kb.intents.values()
                for cue in intent.cues
            ]
        )
        return cls(
            index,
            cues,
            threshold=threshold,
            ambiguity_threshold=ambiguity_threshold,
            weights=weights or Weights(),
        )

    def scores(self, folded: str, entities: Entities) -> FloatArray:
        """The raw combined score of every intent, aligned with ``self.intents``."""
        w = self.weights
        match = self.index.match(folded)
        score = w.nearest * match.nearest + w.centroid * match.centroid + w.overlap * match.overlap
        clue = False
        for fired in self._cues.fired(folded):
            cue = self._cues.cues[fired]
            score[cue.position] += cue.weight
            clue = clue or (cue.position in self._clue_positions and cue.weight > 0)
        if clue:
            score[self._no_clue] -= CLUE_PENALTY
        if entities.isp:
            score[self._port_blocked] += ISP_BONUS
        if folded.count(" ") >= SMALL_TALK_MAX_WORDS:
            score[self._small_talk] -= SMALL_TALK_PENALTY
        if entities.reply_kind is not None:
            score = score + self._reply_bias[entities.reply_kind]
        return score

    def confidences(self, score: FloatArray) -> FloatArray:
        scaled = (score - score.max()) / self.weights.temperature
        exp = np.exp(scaled)
        result: FloatArray = exp / exp.sum()
        return result

    def understand(self, text: str) -> Understanding:
        """Read one customer message."""
        cleaned = strip_email_noise(text[:MAX_CHARS])
        entities = extract_entities(cleaned)
        folded = fold(cleaned)
        confidence = self.confidences(self.scores(folded, entities)).tolist()
        order = sorted(range(len(confidence)), key=confidence.__getitem__, reverse=True)
        top, second = confidence[order[0]], confidence[order[1]]
        intent = self.intents[order[0]]
        # Validated construction: pydantic-core does it faster than model_construct.
        return Understanding(
            text=text,
            intent=intent,
            confidence=round(top, 4),
            action=decide(
                intent,
                top,
                second,
                threshold=self.threshold,
                ambiguity_threshold=self.ambiguity_threshold,
            ),
            alternatives=[
                Scored(intent=self.intents[i], confidence=round(confidence[i], 4))
                for i in order[1 : 1 + ALTERNATIVES]
            ],
            entities=entities,
        )
