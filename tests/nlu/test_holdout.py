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


def test_review_sets_score(classifier: Classifier) -> None:
    # Two more independently written sets (160 and 150 messages). Unlike the holdout
    # they were used once, to find failure modes (delivery-report and dialog noise,
    # FTP and SPF questions, DNS record changes); they stay as regression guards.
    for name, size in (("review_a.jsonl", 160), ("review_b.jsonl", 150)):
        report = evaluate(classifier, read_jsonl(ROOT / "tests" / "data" / name))
        assert report.examples == size
        assert report.accuracy >= 0.95, name
        assert report.wrong_answer_rate <= 0.02, name
        assert report.out_of_scope_answered_as_relay == 0, name
