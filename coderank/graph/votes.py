"""Pure vote and pair logic: tallies, majority outcome, reranker agreement, pair choice."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from coderank.errors import InvalidVoteError
from coderank.models import CHOICES, Pair


def parse_resume(value: Any) -> dict[str, str]:
    """Check a resume value: ``{"user", "choice"}`` or ``{"action": "close", "user"}``.

    Raises:
        InvalidVoteError: when the value has any other shape.
    """
    if (
        not isinstance(value, Mapping)
        or not isinstance(value.get("user"), str)
        or not value["user"]
    ):
        raise InvalidVoteError("a vote needs a user")
    if value.get("action") == "close":
        return {"action": "close", "user": value["user"]}
    choice = value.get("choice")
    if choice not in CHOICES:
        raise InvalidVoteError(f"{choice!r} is not a vote: expected one of {', '.join(CHOICES)}")
    return {"user": value["user"], "choice": choice}


def tally(votes: Mapping[str, str]) -> dict[str, int]:
    """Votes per choice, every choice present."""
    counts = Counter(votes.values())
    return {choice: counts.get(choice, 0) for choice in CHOICES}


def majority(votes: Mapping[str, str]) -> str | None:
    """The choice with the most votes; a draw at the top is a ``tie``; ``None`` with no votes."""
    counts = tally(votes)
    top = max(counts.values())
    if top == 0:
        return None
    leaders = [c for c, n in counts.items() if n == top]
    return leaders[0] if len(leaders) == 1 else "tie"


def reranker_agrees(outcome: str | None, score_a: float, score_b: float) -> bool | None:
    """Whether the reranker scored the humans' preferred answer higher (``None`` if undecided)."""
    if outcome == "A":
        return score_a > score_b
    if outcome == "B":
        return score_b > score_a
    return None


def _policy_pair(scores: Mapping[str, float], policy: str, order: Sequence[str]) -> tuple[str, str]:
    ranked = sorted(order, key=lambda agent: -scores[agent])  # stable: ties keep agent order
    if policy == "top2":
        return ranked[0], ranked[1]
    if policy == "uncertain":
        pairs = itertools.combinations(ranked, 2)
        return min(pairs, key=lambda p: abs(scores[p[0]] - scores[p[1]]))
    raise ValueError(f"unknown pair policy {policy!r}")


def choose_pair(
    scores: Mapping[str, float],
    *,
    policy: str,
    explore: float,
    rng: random.Random,
) -> Pair:
    """Choose which two answers to show, and which is A.

    With probability ``explore`` (always, for the ``random`` policy) the pair is uniform over all
    pairs, so the reranker does not alone decide what people judge. The recorded ``probability`` is
    the chance this unordered pair had of being shown under the whole rule.
    """
    agents = list(scores)
    if len(agents) < 2:
        raise ValueError("a pair needs at least two scored answers")
    pairs = list(itertools.combinations(agents, 2))
    uniform = 1.0 / len(pairs)
    explored = policy == "random" or rng.random() < explore
    if explored:
        first, second = pairs[rng.randrange(len(pairs))]
    else:
        first, second = _policy_pair(scores, policy, agents)
    if policy == "random":
        probability = uniform
    else:
        chosen = frozenset((first, second))
        policy_pick = frozenset(_policy_pair(scores, policy, agents))
        probability = explore * uniform + (1 - explore) * (chosen == policy_pick)
    swapped = rng.random() < 0.5
    a, b = (second, first) if swapped else (first, second)
    return Pair(
        a=a, b=b, policy=policy, probability=probability, explored=explored, swapped=swapped
    )
