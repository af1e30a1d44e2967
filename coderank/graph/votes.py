"""Pure vote and pair logic: the shape of a resume value, and which pair is shown."""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence

from coderank.config import PAIR_POLICIES
from coderank.errors import ConfigError, GenerationError, InvalidVoteError
from coderank.graph.active import AgentPair, PairRecord, agent_pair
from coderank.models import BY_REQUESTER, CHOICES, CLOSED_HOW, Pair


def parse_resume(value: object) -> dict[str, str]:
    """Check a resume value: ``{"user", "choice"}``, or ``{"action": "close", "user", "how"}``
    (``how``: requester, admin or deadline; requester when left out).

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
        how = value.get("how") or BY_REQUESTER
        if how not in CLOSED_HOW:
            raise InvalidVoteError(f"{how!r} is not a way to close: one of {', '.join(CLOSED_HOW)}")
        return {"action": "close", "user": value["user"], "how": how}
    choice = value.get("choice")
    if choice not in CHOICES:
        raise InvalidVoteError(f"{choice!r} is not a vote: expected one of {', '.join(CHOICES)}")
    return {"user": value["user"], "choice": choice}


def _policy_pair(
    scores: Mapping[str, float],
    ran: Mapping[str, float],
    policy: str,
    order: Sequence[str],
    known: Mapping[AgentPair, PairRecord],
) -> tuple[str, str]:
    """The policy's pair. With execution scores (``ran``), answers rank by how they ran first and
    the reranker second (CodeRank's combined rule), and the most uncertain pair is the one the two
    signals together separate least. ``active``: the agent pair whose agreement with the team has
    the widest 95% interval so far (``known``), the most uncertain one on equal widths."""

    def key(agent: str) -> tuple[float, float]:
        return (ran.get(agent, 0.0), scores[agent])

    def closeness(p: tuple[str, str]) -> tuple[float, ...]:
        return tuple(abs(x - y) for x, y in zip(key(p[0]), key(p[1]), strict=True))

    ranked = sorted(order, key=lambda agent: tuple(-k for k in key(agent)))  # stable on ties
    if policy == "top2":
        return ranked[0], ranked[1]
    if policy == "uncertain":
        return min(itertools.combinations(ranked, 2), key=closeness)
    if policy == "active":
        unknown = PairRecord()
        return min(
            itertools.combinations(ranked, 2),
            key=lambda p: (-known.get(agent_pair(*p), unknown).width, closeness(p)),
        )
    raise ConfigError(
        f"PAIR_POLICY={policy!r} is not valid: expected one of {', '.join(PAIR_POLICIES)}"
    )


def choose_pair(
    scores: Mapping[str, float],
    *,
    policy: str,
    explore: float,
    rng: random.Random,
    ran: Mapping[str, float] | None = None,
    known: Mapping[AgentPair, PairRecord] | None = None,
) -> Pair:
    """Choose which two answers to show, and which is A (``ran``: execution scores, if run;
    ``known``: for ``active``, what each agent pair's closed comparisons say so far).

    With probability ``explore`` (always, for the ``random`` policy) the pair is uniform over all
    pairs, so the reranker does not alone decide what people judge. The recorded ``probability`` is
    the chance this unordered pair had of being shown under the whole rule, given ``known``.
    """
    agents = list(scores)
    if len(agents) < 2:
        raise GenerationError("a pair needs at least two scored answers")
    pairs = list(itertools.combinations(agents, 2))
    uniform = 1.0 / len(pairs)
    explored = policy == "random" or rng.random() < explore
    picked = (
        None if policy == "random" else _policy_pair(scores, ran or {}, policy, agents, known or {})
    )
    first, second = pairs[rng.randrange(len(pairs))] if explored or picked is None else picked
    if picked is None:
        probability = uniform
    else:
        chosen = frozenset((first, second))
        probability = explore * uniform + (1 - explore) * (chosen == frozenset(picked))
    swapped = rng.random() < 0.5
    a, b = (second, first) if swapped else (first, second)
    return Pair(
        a=a, b=b, policy=policy, probability=probability, explored=explored, swapped=swapped
    )
