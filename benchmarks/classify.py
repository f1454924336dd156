"""Classifier speed: latency per message over a labelled set, throughput, and how
cost grows with the size of the knowledge base.

    .venv/bin/python benchmarks/classify.py [../shared/eval/dev.jsonl] [--sizes 1000,10000,50000]

Synthetic knowledge bases are made by recombining the shipped examples' words, so
their vocabulary and phrase lengths look like real training data.

This machine's speed drifts by tens of percent from minute to minute (other
tenants), so the steady figures are measured ``--repeats`` times and the median
run is printed, with the spread of the p99 across runs beside it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from service.evaluation import percentile, read_jsonl
from service.kb import KnowledgeBase, load_knowledge_base
from service.nlu.classifier import Classifier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def synthetic(kb: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """A knowledge base with ``size`` examples spread over the real intents."""
    rng = random.Random(seed)
    intents = list(kb.intents.values())
    per_intent = size // len(intents)
    grown = {}
    for intent in intents:
        words = [word for example in intent.examples for word in example.split()]
        examples = list(intent.examples)
        seen = {e.lower() for e in examples}
        while len(examples) < per_intent:
            phrase = " ".join(rng.choice(words) for _ in range(rng.randint(4, 18)))
            if phrase.lower() not in seen:
                seen.add(phrase.lower())
                examples.append(phrase)
        grown[intent.id] = intent.model_copy(update={"examples": examples[:per_intent] or examples})
    return KnowledgeBase(intents=grown)


def measure(classifier: Classifier, texts: list[str], rounds: int) -> dict[str, float]:
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            classifier.understand(text)
            latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "mean_ms": statistics.fmean(latencies),
        "per_s": len(latencies) / elapsed,
    }


def repeated(
    classifier: Classifier, texts: list[str], rounds: int, repeats: int
) -> dict[str, float]:
    """The median of ``repeats`` measurements, and the lowest and highest p99."""
    runs = [measure(classifier, texts, rounds) for _ in range(repeats)]
    summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    summary["p99_low"] = min(run["p99_ms"] for run in runs)
    summary["p99_high"] = max(run["p99_ms"] for run in runs)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT_SET))
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    texts = [example.text for example in read_jsonl(Path(args.file))]
    kb = load_knowledge_base(ROOT / "intents")

    t0 = time.perf_counter()
    classifier = Classifier.build(kb)
    build_ms = (time.perf_counter() - t0) * 1000
    cold = measure(classifier, texts, rounds=1)
    warm = repeated(classifier, texts, args.rounds, args.repeats)
    print(f"messages: {len(texts)} from {args.file}")
    print(
        f"{'knowledge base':<22}{'examples':>9}{'build ms':>10}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'msg/s':>9}"
    )
    print(
        f"{'shipped (first pass)':<22}{kb.example_count:>9}{build_ms:>10.0f}"
        f"{cold['p50_ms']:>9.3f}{cold['p99_ms']:>9.3f}{cold['per_s']:>9.0f}"
    )
    print(
        f"{'shipped (steady)':<22}{kb.example_count:>9}{'':>10}"
        f"{warm['p50_ms']:>9.3f}{warm['p99_ms']:>9.3f}{warm['per_s']:>9.0f}"
        f"   (p99 over {args.repeats} runs: {warm['p99_low']:.3f} to {warm['p99_high']:.3f} ms)"
    )
    for size in (int(s) for s in args.sizes.split(",") if s):
        grown = synthetic(kb, size)
        t0 = time.perf_counter()
        big = Classifier.build(grown)
        build_ms = (time.perf_counter() - t0) * 1000
        first = measure(big, texts, rounds=1)
        steady = repeated(big, texts, max(1, args.rounds // 4), args.repeats)
        print(
            f"{'synthetic':<22}{grown.example_count:>9}{build_ms:>10.0f}"
            f"{steady['p50_ms']:>9.3f}{steady['p99_ms']:>9.3f}{steady['per_s']:>9.0f}"
            f"   (first pass p99 {first['p99_ms']:.3f} ms; p99 over {args.repeats} runs: "
            f"{steady['p99_low']:.3f} to {steady['p99_high']:.3f} ms)"
        )


if __name__ == "__main__":
    main()
