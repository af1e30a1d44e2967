"""From feedback documents (one per voter) to one judged pair per comparison."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from coderank.models import CHOICES

# Human preference of a majority outcome: +1 for A, -1 for B, 0 for a tie; both_bad has none.
PREFERENCE = {"A": 1, "B": -1, "tie": 0}


@dataclass
class JudgedPair:
    """A comparison as the metrics see it: the shown pair, the reranker's scores, the votes."""

    comparison_id: str
    agent_a: str
    agent_b: str
    score_a: float
    score_b: float
    probability: float
    model: str
    created_at: str
    votes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def counts(self) -> tuple[int, int, int, int]:
        """Votes for A, B, tie, both_bad (read once the votes are all in: it is cached)."""
        a = b = tie = bad = 0
        for choice in self.votes.values():
            if choice == "A":
                a += 1
            elif choice == "B":
                b += 1
            elif choice == "tie":
                tie += 1
            else:
                bad += 1
        return a, b, tie, bad

    @cached_property
    def outcome(self) -> str | None:
        """The majority choice, as the graph's ``majority`` decides it (a draw is a tie)."""
        counts = self.counts
        top = max(counts)
        if top == 0:
            return None
        leaders = [c for c, n in zip(CHOICES, counts, strict=True) if n == top]
        return leaders[0] if len(leaders) == 1 else "tie"

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
    def weight(self) -> float:
        """Inverse of the probability this pair had of being shown."""
        return 1.0 / self.probability if self.probability > 0 else 0.0


def judged_pairs(feedback: Iterable[Mapping[str, Any]]) -> list[JudgedPair]:
    """Group feedback documents by comparison, in the order comparisons first appear."""
    pairs: dict[str, JudgedPair] = {}
    for doc in feedback:
        if doc.get("choice") not in CHOICES:
            continue
        cid = doc["comparison_id"]
        pair = pairs.get(cid)
        if pair is None:
            pair = pairs[cid] = JudgedPair(
                comparison_id=cid,
                agent_a=doc["agent_a"],
                agent_b=doc["agent_b"],
                score_a=float(doc["score_a"]),
                score_b=float(doc["score_b"]),
                probability=float(doc.get("pair_probability") or 1.0),
                model=str(doc.get("reranker_model") or "unknown"),
                created_at=str(doc.get("created_at") or ""),
            )
        pair.votes[doc["user"]] = doc["choice"]
        pair.created_at = min(pair.created_at, str(doc.get("created_at") or pair.created_at))
    return list(pairs.values())
