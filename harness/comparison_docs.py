"""``comparisons`` documents for tests, built with the product's own ``Comparison`` so they have
exactly the stored shape."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from coderank.models import CLOSED, Comparison, Pair


def comparison_doc(
    cid: str,
    *,
    votes: Mapping[str, str],
    agent_a: str = "explainer",
    agent_b: str = "optimizer",
    score_a: float = 0.6,
    score_b: float = 0.4,
    closed_at: str | None = "2026-11-20T10:00:00+00:00",
    probability: float = 1.0,
    model: str = "m1",
    status: str = CLOSED,
    requester: str = "alice",
    problem: str = "Write f",
    execution_scores: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The document of a comparison that showed ``agent_a`` as A and ``agent_b`` as B."""
    return Comparison(
        comparison_id=cid,
        problem=problem,
        requester=requester,
        source="test",
        created_at=closed_at or "2026-11-01T00:00:00+00:00",
        status=status,
        scores={agent_a: score_a, agent_b: score_b},
        reranker_model=model,
        pair=Pair(
            a=agent_a,
            b=agent_b,
            policy="top2",
            probability=probability,
            explored=False,
            swapped=False,
        ),
        votes=dict(votes),
        closed_at=closed_at if status == CLOSED else None,
        execution_scores=dict(execution_scores or {}),
    ).to_document()


def from_votes(
    feedback: Iterable[Mapping[str, Any]], *, status: str = CLOSED
) -> list[dict[str, Any]]:
    """Feedback-shaped votes grouped into one comparison each, closed when its last vote was cast
    (``status="voting"``: still open)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for doc in feedback:
        grouped.setdefault(str(doc["comparison_id"]), []).append(doc)
    docs = []
    for cid, votes in grouped.items():
        first = votes[0]
        docs.append(
            comparison_doc(
                cid,
                votes={str(v["user"]): str(v["choice"]) for v in votes},
                agent_a=str(first["agent_a"]),
                agent_b=str(first["agent_b"]),
                score_a=float(first["score_a"]),
                score_b=float(first["score_b"]),
                closed_at=max(str(v.get("created_at") or "") for v in votes),
                probability=float(first.get("pair_probability") or 1.0),
                model=str(first.get("reranker_model") or "unknown"),
                status=status,
            )
        )
    return docs


def team_votes(comparisons: int = 60, honest: int = 20, seed: int = 3) -> list[dict[str, str]]:
    """Each comparison's votes: honest voters pick the better answer 80% of the time,
    ``always_a`` always votes A and ``random`` votes uniformly (the two the voter tests flag)."""
    rng = random.Random(seed)
    team = []
    for _ in range(comparisons):
        better = rng.choice("AB")
        worse = "B" if better == "A" else "A"
        votes = {
            f"honest{v}": rng.choices([better, worse, "tie", "both_bad"], [80, 14, 4, 2])[0]
            for v in range(honest)
        }
        votes["always_a"] = "A"
        votes["random"] = rng.choice(["A", "B", "tie", "both_bad"])
        team.append(votes)
    return team
