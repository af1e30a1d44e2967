"""Closed comparisons voted on by a simulated team: honest voters who pick the better answer
most of the time, one who always votes A, and one who has voted only a few times; and, computed
without the product's code, the figures a voter should see of their own votes."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from coderank.models import CHOICES
from harness.comparison_docs import comparison_doc

HONEST = tuple(f"U0HONEST{i:02d}" for i in range(12))
ALWAYS_A = "U0ALWAYSA"
FEW = "U0FEW"  # votes on the first FEW_VOTES comparisons only
FEW_VOTES = 7
AGENT_PAIRS = (("explainer", "optimizer"), ("concise_fixer", "explainer"))


def team_comparisons(n: int = 60, *, seed: int = 3) -> list[dict[str, Any]]:
    """``n`` closed ``comparisons`` documents, every honest voter and ALWAYS_A on each."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        better = rng.choice("AB")
        worse = "B" if better == "A" else "A"
        votes = {v: rng.choices([better, worse, "tie", "both_bad"], [80, 14, 4, 2])[0]
                 for v in HONEST}  # fmt: skip
        votes[ALWAYS_A] = "A"
        if i < FEW_VOTES:
            votes[FEW] = better
        agent_a, agent_b = AGENT_PAIRS[i % 2]
        docs.append(
            comparison_doc(
                f"team{i:03d}",
                votes=votes,
                agent_a=agent_a,
                agent_b=agent_b,
                score_a=round(rng.random(), 3),
                score_b=round(rng.random(), 3),
                closed_at=f"2026-11-{1 + i % 28:02d}T10:00:00+00:00",
                problem=f"Team problem {i}",
            )
        )
    return docs


def _majority(votes: Mapping[str, str]) -> str:
    counts = Counter(votes.values())
    top = max(counts.values())
    leaders = [c for c in CHOICES if counts[c] == top]
    return leaders[0] if len(leaders) == 1 else "tie"


def own_counts(docs: Sequence[Mapping[str, Any]], voter: str) -> dict[str, tuple[int, int]]:
    """(k, n) of ``voter``'s agreement with the majority (comparisons with another voter), with
    the reranker (A/B votes for the higher score) and of their A share (A/B votes)."""
    team = reranker = chose_a = ab = judged = 0
    for d in docs:
        choice = d["votes"].get(voter)
        if choice is None:
            continue
        if len(d["votes"]) >= 2:
            judged += 1
            team += choice == _majority(d["votes"])
        if choice in ("A", "B"):
            ab += 1
            chose_a += choice == "A"
            a, b = d["pair"]["a"], d["pair"]["b"]
            higher = "A" if d["scores"][a] > d["scores"][b] else "B"
            reranker += d["scores"][a] != d["scores"][b] and choice == higher
    return {"team": (team, judged), "reranker": (reranker, ab), "position": (chose_a, ab)}


def wilson_text(k: int, n: int) -> str:
    """``62.5% [55.1, 69.4] (n=160)`` for k of n, with the Wilson score interval."""
    z, p = 1.959963984540054, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{p * 100:.1f}% [{(centre - half) * 100:.1f}, {(centre + half) * 100:.1f}] (n={n})"
