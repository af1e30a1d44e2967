"""What the store holds besides comparisons: one response per agent, one reranker score per
answer, one vote per voter. Frozen, built by the graph's nodes, written with ``to_document``.

Every ``_id`` is deterministic (``<comparison_id>:<agent or user>``), so a retried write replaces
the same document; ``docs/data-model.md`` describes each field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from coderank.models import Answer, Comparison
from coderank.store.base import doc_id


@dataclass(frozen=True)
class ResponseRecord:
    """An agent's answer to one comparison's problem (failed ones too)."""

    comparison_id: str
    agent: str
    problem: str
    text: str
    code: str
    status: str  # "ok" or "error"
    error: str | None
    model: str
    latency_s: float
    created_at: str

    @classmethod
    def of(
        cls, comparison_id: str, problem: str, answer: Answer, *, model: str, at: str
    ) -> ResponseRecord:
        return cls(
            comparison_id=comparison_id,
            agent=answer.agent,
            problem=problem,
            text=answer.text,
            code=answer.code,
            status="ok" if answer.ok else "error",
            error=answer.error,
            model=model,
            latency_s=round(answer.latency_s, 3),
            created_at=at,
        )

    def to_document(self) -> dict[str, Any]:
        return {"_id": doc_id(self.comparison_id, self.agent), **asdict(self)}


@dataclass(frozen=True)
class ScoreRecord:
    """The reranker's score of one answer."""

    comparison_id: str
    agent: str
    score: float
    model_id: str
    created_at: str

    def to_document(self) -> dict[str, Any]:
        return {"_id": doc_id(self.comparison_id, self.agent), **asdict(self)}


@dataclass(frozen=True)
class VoteRecord:
    """One voter's current vote on a comparison, with what is needed to evaluate it alone."""

    comparison_id: str
    user: str
    choice: str
    problem: str
    requester: str
    source: str
    agent_a: str
    agent_b: str
    score_a: float
    score_b: float
    reranker_model: str
    pair_policy: str
    pair_probability: float
    pair_explored: bool
    a_b_swapped: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(
        cls, comparison: Comparison, user: str, choice: str, *, first: str, at: str
    ) -> VoteRecord:
        """``user``'s vote ``choice`` on ``comparison`` (which shows a pair); ``first`` is when
        the user first voted on it."""
        pair = comparison.shown()  # raises if no pair is shown
        assert comparison.pair is not None
        return cls(
            comparison_id=comparison.comparison_id,
            user=user,
            choice=choice,
            problem=comparison.problem,
            requester=comparison.requester,
            source=comparison.source,
            agent_a=pair["A"].agent,
            agent_b=pair["B"].agent,
            score_a=comparison.score_a,
            score_b=comparison.score_b,
            reranker_model=comparison.reranker_model or "unknown",
            pair_policy=comparison.pair.policy,
            pair_probability=comparison.pair.probability,
            pair_explored=comparison.pair.explored,
            a_b_swapped=comparison.pair.swapped,
            created_at=first,
            updated_at=at,
        )

    def to_document(self) -> dict[str, Any]:
        return {"_id": doc_id(self.comparison_id, self.user), **asdict(self)}
