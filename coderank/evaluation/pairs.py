"""From closed comparisons (the ``comparisons`` collection) to the judged pairs the metrics read.

Only closed comparisons count: the votes of one still open are not its outcome yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from coderank.models import CHOICES, CLOSED, majority, tally

# Human preference of a majority outcome: +1 for A, -1 for B, 0 for a tie; both_bad has none.
PREFERENCE = {"A": 1, "B": -1, "tie": 0}


@dataclass
class JudgedPair:
    """A closed comparison as the metrics see it: the shown pair, the reranker's scores, the
    votes, and when it closed (the week it counts in)."""

    comparison_id: str
    agent_a: str
    agent_b: str
    score_a: float
    score_b: float
    probability: float
    model: str
    closed_at: str
    votes: dict[str, str] = field(default_factory=dict)
    # How well each shown answer ran in the sandbox (0..1; None: execution was off).
    exec_a: float | None = None
    exec_b: float | None = None
    # Each shown answer's style (coderank.evaluation.style; empty for older comparisons).
    style_a: dict[str, float] = field(default_factory=dict)
    style_b: dict[str, float] = field(default_factory=dict)

    # Worked out from ``votes`` when the pair is made (every figure reads them, many times):
    # the votes for A, B, tie and both_bad, and the majority choice as the comparison closed with
    # (a draw at the top is a tie).
    counts: tuple[int, int, int, int] = field(init=False, repr=False, compare=False)
    outcome: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        counted = tally(self.votes.values())
        a, b, tie, bad = (counted[c] for c in CHOICES)
        self.counts, self.outcome = (a, b, tie, bad), majority(counted)

    @property
    def decisive(self) -> bool:
        return self.outcome in ("A", "B")

    @property
    def preference(self) -> int | None:
        outcome = self.outcome
        return PREFERENCE.get(outcome) if outcome else None

    @property
    def score_diff(self) -> float:
        return self.score_a - self.score_b

    @property
    def reranker_right(self) -> bool:
        """On a decisive pair: did the reranker score the preferred answer strictly higher?"""
        return (self.score_diff > 0) if self.outcome == "A" else (self.score_diff < 0)

    @property
    def execution_decides(self) -> bool:
        return self.exec_a is not None and self.exec_b is not None and self.exec_a != self.exec_b

    @property
    def execution_right(self) -> bool:
        """On a decisive pair execution decides: did the preferred answer run better?"""
        assert self.exec_a is not None and self.exec_b is not None
        return (self.exec_a > self.exec_b) if self.outcome == "A" else (self.exec_a < self.exec_b)

    @property
    def combined_right(self) -> bool:
        """Execution where it decides, else the reranker."""
        return self.execution_right if self.execution_decides else self.reranker_right

    @property
    def weight(self) -> float:
        """Inverse of the probability this pair had of being shown."""
        return 1.0 / self.probability if self.probability > 0 else 0.0


def judged_pair(doc: Mapping[str, Any]) -> JudgedPair | None:
    """The judged pair of a ``comparisons`` document, or ``None`` if it is not closed with a
    pair shown and at least one vote."""
    pair, votes = doc.get("pair"), doc.get("votes") or {}
    if doc.get("status") != CLOSED or not pair or not votes:
        return None
    scores = doc.get("scores") or {}
    ran = doc.get("execution_scores") or {}
    return JudgedPair(
        comparison_id=str(doc["comparison_id"]),
        agent_a=str(pair["a"]),
        agent_b=str(pair["b"]),
        score_a=float(scores[pair["a"]]),
        score_b=float(scores[pair["b"]]),
        probability=float(pair.get("probability") or 1.0),
        model=str((doc.get("models") or {}).get("reranker") or "unknown"),
        closed_at=str(doc.get("closed_at") or ""),
        votes={str(u): str(c) for u, c in votes.items() if c in CHOICES},
        exec_a=float(ran[pair["a"]]) if pair["a"] in ran else None,
        exec_b=float(ran[pair["b"]]) if pair["b"] in ran else None,
        style_a=dict((doc.get("style") or {}).get(pair["a"]) or {}),
        style_b=dict((doc.get("style") or {}).get(pair["b"]) or {}),
    )


def judged_pairs(comparisons: Iterable[Mapping[str, Any]]) -> list[JudgedPair]:
    """The judged pairs of ``comparisons`` documents (open, failed and unvoted ones left out)."""
    pairs = (judged_pair(doc) for doc in comparisons)
    return [p for p in pairs if p is not None]
