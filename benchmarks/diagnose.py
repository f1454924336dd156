"""Benchmark live diagnoses against the loopback lab (nsd, unbound, aiosmtpd).

    .venv/bin/python benchmarks/diagnose.py            # lab in a child process
    .venv/bin/python benchmarks/diagnose.py --in-process --runs 50 --json

Needs Debian's nsd and unbound. Figures (targets from issue 3):

- full diagnosis, our cache bypassed (the resolver's cache is warm, as in real life):
  p50 <= 50 ms; cached: p50 <= 1 ms;
- one silent nameserver plus one silent SMTP port: total <= budget + 10 %;
- concurrency ratio, full wall time / slowest check run alone: <= 1.3. Reported twice:
  on the healthy loopback domain, where nothing waits on the network and the ratio
  measures CPU (checks share one event loop), and on the domain with silent servers,
  where checks wait on the network as they do in production.

By default the lab runs in a child process, so the test servers' CPU (aiosmtpd runs in
Python threads) is not charged to the service being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.lab import Lab  # noqa: E402

from service.api.deps import diagnostics_config  # noqa: E402
from service.diagnostics import CheckId, Diagnostician  # noqa: E402
from service.settings import Settings  # noqa: E402

STALLED_BUDGET_S = 1.0


def _serve_lab(conn: Connection) -> None:
    with tempfile.TemporaryDirectory() as workdir, Lab.running(Path(workdir)) as lab:
        conn.send(
            {
                "settings": lab.settings_values(),
                "ca": str(lab.ca.bundle),
                "domains": asdict(lab.domains),
            }
        )
        conn.recv()  # until the parent is done


@contextmanager
def lab_values(in_process: bool) -> Iterator[dict[str, Any]]:
    """The lab's settings, CA bundle and domains, with the lab running somewhere."""
    if in_process:
        with tempfile.TemporaryDirectory() as workdir, Lab.running(Path(workdir)) as lab:
            yield {
                "settings": lab.settings_values(),
                "ca": str(lab.ca.bundle),
                "domains": asdict(lab.domains),
            }
        return
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_lab, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the lab did not start")
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(15)
        parent.close()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(runs: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    """Wall time of each call, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def measure(values: dict[str, Any], runs: int) -> dict[str, Any]:
    os.environ["SSL_CERT_FILE"] = values["ca"]
    domains = values["domains"]
    settings = Settings(**values["settings"])
    diagnostician = Diagnostician(diagnostics_config(settings))
    healthy = domains["healthy"]

    await timed(5, lambda: diagnostician.diagnose(healthy))  # warm the resolver and TLS
    uncached = await timed(runs, lambda: diagnostician.diagnose(healthy))
    await diagnostician.run(healthy)
    cached = await timed(runs * 10, lambda: diagnostician.run(healthy))

    alone = {}
    for check_id in CheckId:
        call = functools.partial(diagnostician.diagnose, healthy, [check_id])
        samples = await timed(max(10, runs // 5), call)
        alone[check_id.value] = statistics.median(samples)
    slowest_check = max(alone, key=lambda k: alone[k])

    stalled_settings = Settings(**(values["settings"] | {"diagnostics_budget_s": STALLED_BUDGET_S}))
    stalled_diagnostician = Diagnostician(diagnostics_config(stalled_settings))
    stalled = await timed(10, lambda: stalled_diagnostician.diagnose(domains["stalled"]))
    last = await stalled_diagnostician.diagnose(domains["stalled"])
    stalled_alone = {}
    for check_id in CheckId:
        call = functools.partial(stalled_diagnostician.diagnose, domains["stalled"], [check_id])
        samples = await timed(3, call)
        stalled_alone[check_id.value] = statistics.median(samples)
    stalled_slowest = max(stalled_alone.values())

    p50 = statistics.median(uncached)
    return {
        "runs": runs,
        "uncached_ms": {"p50": round(p50, 2), "p99": round(percentile(uncached, 0.99), 2)},
        "cached_ms": {
            "p50": round(statistics.median(cached), 4),
            "p99": round(percentile(cached, 0.99), 4),
        },
        "stalled": {
            "budget_s": STALLED_BUDGET_S,
            "max_ms": round(max(stalled), 1),
            "ratio_to_budget": round(max(stalled) / (STALLED_BUDGET_S * 1000), 3),
            "statuses": {c.id.value: c.status.value for c in last.checks},
            # I/O-bound: waiting on silent servers, where concurrency is what matters
            "concurrency_ratio": round(statistics.median(stalled) / stalled_slowest, 3),
        },
        "concurrency": {
            "slowest_check": slowest_check,
            "slowest_check_alone_ms": round(alone[slowest_check], 2),
            "ratio": round(p50 / alone[slowest_check], 3),
            "alone_ms": {k: round(v, 2) for k, v in alone.items()},
        },
    }


def verdicts(result: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        ("uncached p50 <= 50 ms", result["uncached_ms"]["p50"] <= 50),
        ("cached p50 <= 1 ms", result["cached_ms"]["p50"] <= 1),
        ("silent servers: total <= budget + 10%", result["stalled"]["ratio_to_budget"] <= 1.1),
        ("concurrency ratio <= 1.3 (loopback, CPU-bound)", result["concurrency"]["ratio"] <= 1.3),
        (
            "concurrency ratio <= 1.3 (silent servers, I/O-bound)",
            result["stalled"]["concurrency_ratio"] <= 1.3,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--in-process", action="store_true", help="run the lab in this process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with lab_values(args.in_process) as values:
        result = asyncio.run(measure(values, args.runs))
    result["lab"] = "in-process" if args.in_process else "child process"
    result["verdicts"] = {name: ok for name, ok in verdicts(result)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"lab: {result['lab']}, {args.runs} runs")
        print(
            f"uncached  p50 {result['uncached_ms']['p50']:7.2f} ms   "
            f"p99 {result['uncached_ms']['p99']:7.2f} ms"
        )
        print(
            f"cached    p50 {result['cached_ms']['p50']:7.4f} ms   "
            f"p99 {result['cached_ms']['p99']:7.4f} ms"
        )
        stalled = result["stalled"]
        print(
            f"silent NS + silent SMTP port: {stalled['max_ms']} ms max "
            f"(budget {stalled['budget_s']} s, ratio {stalled['ratio_to_budget']}; "
            f"concurrency ratio {stalled['concurrency_ratio']})"
        )
        concurrency = result["concurrency"]
        print(
            f"concurrency ratio {concurrency['ratio']} (slowest alone: "
            f"{concurrency['slowest_check']} {concurrency['slowest_check_alone_ms']} ms)"
        )
        for name, ok in verdicts(result):
            print(f"  [{'ok' if ok else 'MISS'}] {name}")
    return 0 if all(ok for _, ok in verdicts(result)) else 1


if __name__ == "__main__":
    sys.exit(main())
