"""Graph nodes: short glue between the agents, the reranker, the store and the vote logic."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from langgraph.types import interrupt

from coderank.graph import votes as vote_logic
from coderank.graph.state import ComparisonState
from coderank.models import Answer
from coderank.reranker.base import Reranker
from coderank.store import FEEDBACK, RERANKER_SCORES, RESPONSES, Store, doc_id


class Node(Protocol):
    def __call__(self, state: ComparisonState) -> dict[str, Any]: ...


class AnswersProblems(Protocol):
    def answer(self, problem: str) -> Answer: ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class GraphServices:
    """What the nodes need, passed in by the composition root."""

    agents: Mapping[str, AnswersProblems]
    reranker: Reranker
    store: Store
    pair_policy: str = "top2"
    pair_explore: float = 0.2
    vote_quorum: int = 5
    model_name: str = ""
    rng: random.Random = field(default_factory=random.Random)
    rng_lock: threading.Lock = field(default_factory=threading.Lock)


def agent_node(name: str, services: GraphServices) -> Node:
    """A node that runs agent ``name`` and stores its response (failed ones too)."""

    def run(state: ComparisonState) -> dict[str, Any]:
        answer = services.agents[name].answer(state["problem"])
        cid = state["comparison_id"]
        services.store.upsert(
            RESPONSES,
            {
                "_id": doc_id(cid, name),
                "comparison_id": cid,
                "agent": name,
                "problem": state["problem"],
                "text": answer.text,
                "code": answer.code,
                "status": "ok" if answer.ok else "error",
                "error": answer.error,
                "model": services.model_name,
                "latency_s": round(answer.latency_s, 3),
                "created_at": now_iso(),
            },
        )
        return {"answers": [answer.to_dict()]}

    return run


def _ok_answers(state: ComparisonState) -> list[dict[str, Any]]:
    return [a for a in state.get("answers", []) if a["error"] is None and a["text"].strip()]


def score_node(services: GraphServices) -> Node:
    """Score the answers with the reranker and store one score per answer."""

    def run(state: ComparisonState) -> dict[str, Any]:
        answers = sorted(_ok_answers(state), key=lambda a: a["agent"])
        fatal = next((a for a in state.get("answers", []) if a.get("fatal")), None)
        if fatal is not None:  # the model went away mid-comparison: say so, not "2 of 3"
            return {"error": fatal["error"], "closed": True}
        if len(answers) < 2:
            failed = [f"{a['agent']}: {a['error']}" for a in state.get("answers", []) if a["error"]]
            return {
                "error": f"only {len(answers)} of {len(state.get('answers', []))} agents answered"
                + (f" ({'; '.join(failed)})" if failed else ""),
                "closed": True,
            }
        cid = state["comparison_id"]
        values = services.reranker.score(state["problem"], [a["text"] for a in answers])
        model_id = services.reranker.model_id
        scores = {a["agent"]: float(v) for a, v in zip(answers, values, strict=True)}
        created = now_iso()
        services.store.upsert_many(
            RERANKER_SCORES,
            [
                {
                    "_id": doc_id(cid, agent),
                    "comparison_id": cid,
                    "agent": agent,
                    "score": score,
                    "model_id": model_id,
                    "created_at": created,
                }
                for agent, score in scores.items()
            ],
        )
        return {"scores": scores, "reranker_model": model_id}

    return run


def choose_pair_node(services: GraphServices) -> Node:
    def run(state: ComparisonState) -> dict[str, Any]:
        with services.rng_lock:
            pair = vote_logic.choose_pair(
                state["scores"],
                policy=services.pair_policy,
                explore=services.pair_explore,
                rng=services.rng,
            )
        return {"pair": pair.to_dict(), "votes": {}, "closed": False}

    return run


def await_vote(state: ComparisonState) -> dict[str, Any]:
    """Pause the thread until a vote or a close resumes it."""
    value = interrupt(
        {
            "comparison_id": state["comparison_id"],
            "pair": state["pair"],
            "voters": len(state.get("votes", {})),
        }
    )
    return {"pending": vote_logic.parse_resume(value)}


def record_vote_node(services: GraphServices) -> Node:
    """Store the pending vote (one per user: a new vote replaces the old) or close voting."""

    def run(state: ComparisonState) -> dict[str, Any]:
        pending = state["pending"]
        if pending.get("action") == "close":
            return {"closed": True, "closed_by": pending["user"]}
        cid, user, pair = state["comparison_id"], pending["user"], state["pair"]
        scores = state["scores"]
        key = doc_id(cid, user)
        earlier = services.store.get(FEEDBACK, key)
        now = now_iso()
        services.store.upsert(
            FEEDBACK,
            {
                "_id": key,
                "comparison_id": cid,
                "user": user,
                "choice": pending["choice"],
                "problem": state["problem"],
                "requester": state.get("requester"),
                "source": state.get("source"),
                "agent_a": pair["a"],
                "agent_b": pair["b"],
                "score_a": scores[pair["a"]],
                "score_b": scores[pair["b"]],
                "reranker_model": state["reranker_model"],
                "pair_policy": pair["policy"],
                "pair_probability": pair["probability"],
                "pair_explored": pair["explored"],
                "a_b_swapped": pair["swapped"],
                "created_at": earlier["created_at"] if earlier else now,
                "updated_at": now,
            },
        )
        new_votes = {**state.get("votes", {}), user: pending["choice"]}
        quorum = services.vote_quorum
        closed = bool(quorum) and len(new_votes) >= quorum
        return {"votes": new_votes, "closed": closed, "closed_by": "quorum" if closed else None}

    return run


def finalize(state: ComparisonState) -> dict[str, Any]:
    """Work out the majority outcome and whether the reranker agreed with it."""
    pair, scores, votes = state["pair"], state["scores"], state.get("votes", {})
    outcome = vote_logic.majority(votes)
    return {
        "outcome": outcome,
        "reranker_agrees": vote_logic.reranker_agrees(
            outcome, scores[pair["a"]], scores[pair["b"]]
        ),
    }
