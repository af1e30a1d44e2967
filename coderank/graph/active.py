"""What the active pair policy knows: per agent pair, how often the team decided it and how often
the reranker agreed, and how wide that agreement's 95% interval still is. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from coderank.models import CLOSED, majority, reranker_agrees, tally

Z95 = 1.959963984540054

AgentPair = frozenset[str]


@dataclass(frozen=True)
class PairRecord:
    """One agent pair's judged comparisons so far: decisive outcomes, and how many of them the
    reranker scored the same way as the team."""

    decisive: int = 0
    agreed: int = 0

    @property
    def width(self) -> float:
        """The width of the 95% Wilson interval of the agreement (1.0: nothing known yet)."""
        return wilson_width(self.agreed, self.decisive)


def wilson_width(successes: int, n: int) -> float:
    """The width of the 95% Wilson score interval of ``successes`` out of ``n`` (1.0 at n=0)."""
    if n <= 0:
        return 1.0
    p, z2 = successes / n, Z95**2
    return 2 * Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)


def agent_pair(a: str, b: str) -> AgentPair:
    return frozenset((a, b))


def outcome_of(doc: Mapping[str, Any]) -> tuple[AgentPair, bool] | None:
    """A closed ``comparisons`` document's agent pair and whether the reranker agreed with the
    team's majority, or ``None`` when it has no decisive outcome (open, failed, no votes, tie,
    both bad)."""
    pair, votes, scores = doc.get("pair"), doc.get("votes") or {}, doc.get("scores") or {}
    if doc.get("status") != CLOSED or not pair or not votes:
        return None
    a, b = str(pair["a"]), str(pair["b"])
    if a not in scores or b not in scores:
        return None
    agrees = reranker_agrees(majority(tally(votes.values())), float(scores[a]), float(scores[b]))
    return None if agrees is None else (agent_pair(a, b), agrees)


def pair_records(outcomes: Iterable[tuple[AgentPair, bool]]) -> dict[AgentPair, PairRecord]:
    """Per agent pair, the decisive outcomes and the reranker's agreements among them."""
    decisive: dict[AgentPair, int] = {}
    agreed: dict[AgentPair, int] = {}
    for pair, agrees in outcomes:
        decisive[pair] = decisive.get(pair, 0) + 1
        agreed[pair] = agreed.get(pair, 0) + agrees
    return {pair: PairRecord(n, agreed[pair]) for pair, n in decisive.items()}
