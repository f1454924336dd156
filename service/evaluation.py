"""Scoring the classifier on labelled messages (``relaydesk eval``).

Pure apart from the clock: give it labelled examples and a classifier, get a
``Report`` with accuracy, macro-F1, per-intent precision and recall, the
confusion matrix, the wrong-answer rate, calibration and latency.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from service.errors import InvalidInput
from service.nlu.classifier import Classifier
from service.nlu.understanding import Action, Understanding

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str


@dataclass(frozen=True)
class IntentMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    examples: int
    accuracy: float
    macro_f1: float
    wrong_answer_rate: float
    out_of_scope_answered_as_relay: int
    expected_calibration_error: float
    latency_ms_p50: float
    latency_ms_p99: float
    actions: dict[str, int]
    per_intent: dict[str, IntentMetrics]
    confusion: dict[str, dict[str, int]]
    top_confusions: list[dict[str, Any]]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, with_errors: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_errors:
            data.pop("errors")
        return data


def read_jsonl(path: Path) -> list[Labelled]:
    """Lines of ``{"text": ..., "intent": ...}``; other fields are ignored."""
    examples: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            examples.append(Labelled(text=str(record["text"]), intent=str(record["intent"])))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}:{number}: expected {{'text', 'intent'}} ({exc})") from exc
    return examples


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100])."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _calibration_error(pairs: Iterable[tuple[float, bool]]) -> float:
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(CALIBRATION_BINS)]
    items = list(pairs)
    for confidence, correct in items:
        bins[min(CALIBRATION_BINS - 1, int(confidence * CALIBRATION_BINS))].append(
            (confidence, correct)
        )
    error = 0.0
    for group in bins:
        if group:
            mean_confidence = sum(c for c, _ in group) / len(group)
            accuracy = sum(1 for _, ok in group if ok) / len(group)
            error += len(group) / len(items) * abs(mean_confidence - accuracy)
    return error


def evaluate(classifier: Classifier, examples: Sequence[Labelled]) -> Report:
    """Classify every example and score the results."""
    results: list[tuple[Labelled, Understanding]] = []
    latencies: list[float] = []
    for example in examples:
        started = time.perf_counter()
        understanding = classifier.understand(example.text)
        latencies.append((time.perf_counter() - started) * 1000)
        results.append((example, understanding))

    labels = sorted({e.intent for e in examples} | {u.intent for _, u in results})
    confusion = {gold: dict.fromkeys(labels, 0) for gold in labels}
    for example, understanding in results:
        confusion[example.intent][understanding.intent] += 1

    per_intent: dict[str, IntentMetrics] = {}
    for label in labels:
        true_positive = confusion[label][label]
        predicted = sum(confusion[gold][label] for gold in labels)
        support = sum(confusion[label].values())
        precision = _safe_div(true_positive, predicted)
        recall = _safe_div(true_positive, support)
        f1 = _safe_div(2 * precision * recall, precision + recall)
        per_intent[label] = IntentMetrics(
            round(precision, 4), round(recall, 4), round(f1, 4), support
        )
    gold_labels = [label for label in labels if per_intent[label].support]

    correct = [e.intent == u.intent for e, u in results]
    wrong_answers = sum(
        1
        for (e, u), ok in zip(results, correct, strict=True)
        if u.action is Action.ANSWER and not ok
    )
    confusions = Counter((e.intent, u.intent) for e, u in results if e.intent != u.intent)
    return Report(
        examples=len(results),
        accuracy=round(_safe_div(sum(correct), len(results)), 4),
        macro_f1=round(
            _safe_div(sum(per_intent[label].f1 for label in gold_labels), len(gold_labels)), 4
        ),
        wrong_answer_rate=round(_safe_div(wrong_answers, len(results)), 4),
        out_of_scope_answered_as_relay=sum(
            1
            for e, u in results
            if e.intent == "out_of_scope"
            and u.action is Action.ANSWER
            and u.intent.startswith("relay.")
        ),
        expected_calibration_error=round(
            _calibration_error(
                (u.confidence, ok) for (_, u), ok in zip(results, correct, strict=True)
            ),
            4,
        ),
        latency_ms_p50=round(percentile(latencies, 50), 4),
        latency_ms_p99=round(percentile(latencies, 99), 4),
        actions=dict(Counter(str(u.action) for _, u in results)),
        per_intent=per_intent,
        confusion=confusion,
        top_confusions=[
            {"gold": gold, "predicted": predicted, "count": count}
            for (gold, predicted), count in confusions.most_common(10)
        ],
        errors=[
            {
                "text": e.text,
                "intent": e.intent,
                "intent_prediction": {"name": u.intent, "confidence": u.confidence},
                "action": str(u.action),
                "alternatives": [a.model_dump() for a in u.alternatives],
                "entities": u.entities.model_dump(exclude_none=True),
            }
            for e, u in results
            if e.intent != u.intent
        ],
    )


def format_report(report: Report) -> str:
    """The report as a human-readable table."""
    lines = [
        f"examples            {report.examples}",
        f"accuracy            {report.accuracy:.3f}",
        f"macro-F1            {report.macro_f1:.3f}",
        f"wrong-answer rate   {report.wrong_answer_rate:.3%}",
        f"out_of_scope answered as relay.*  {report.out_of_scope_answered_as_relay}",
        f"calibration (ECE)   {report.expected_calibration_error:.3f}",
        f"latency             p50 {report.latency_ms_p50:.3f} ms"
        f"   p99 {report.latency_ms_p99:.3f} ms",
        "actions             " + ", ".join(f"{k}={v}" for k, v in sorted(report.actions.items())),
        "",
        f"{'intent':<24}{'precision':>10}{'recall':>8}{'f1':>7}{'n':>5}",
    ]
    for label, metrics in report.per_intent.items():
        lines.append(
            f"{label:<24}{metrics.precision:>10.3f}{metrics.recall:>8.3f}"
            f"{metrics.f1:>7.3f}{metrics.support:>5}"
        )
    labels = list(report.confusion)
    short = [label.split(".")[-1][:6] for label in labels]
    lines += [
        "",
        "confusion (rows gold, columns predicted)",
        " " * 24 + "".join(f"{s:>7}" for s in short),
    ]
    for label in labels:
        lines.append(f"{label:<24}" + "".join(f"{report.confusion[label][p]:>7}" for p in labels))
    if report.top_confusions:
        lines += ["", "most common confusions"]
        lines += [f"  {c['gold']} -> {c['predicted']}: {c['count']}" for c in report.top_confusions]
    return "\n".join(lines)
