"""Generalisation guard: a labelled set written independently of intents/ and of
the dev set. It is never used for tuning; a drop here means the classifier has
started to memorise rather than understand."""

from __future__ import annotations

from support.paths import ROOT

from service.evaluation import evaluate, read_jsonl
from service.nlu.classifier import Classifier


def test_holdout_scores(classifier: Classifier) -> None:
    report = evaluate(classifier, read_jsonl(ROOT / "tests" / "data" / "holdout.jsonl"))
    assert report.examples == 200
    assert report.accuracy >= 0.93
    assert report.wrong_answer_rate <= 0.02
    assert report.out_of_scope_answered_as_relay == 0
