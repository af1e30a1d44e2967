"""Graph nodes: short glue between the agents, the reranker, the store and the vote logic.

Each node that changes what a comparison is (started, failed, open for votes, a vote, closed)
writes its ``comparisons`` document, so the store always holds every comparison's status and
outcome; the other documents (responses, scores, votes) are written where they are made.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from langgraph.types import interrupt

from coderank.agents.prompts import TESTER
from coderank.execution import Executor, execution_dict, tester_checks
from coderank.graph import votes as vote_logic
from coderank.graph.known_pairs import KnownPairs
from coderank.graph.state import ComparisonState, comparison_of
from coderank.metrics import MODEL_UNAVAILABLE, TOO_FEW_ANSWERS, Metrics
from coderank.models import (
    BY_QUORUM,
    CLOSED,
    CLOSED_BY_QUORUM,
    FAILED,
    GENERATING,
    VOTING,
    Answer,
)
from coderank.records import ResponseRecord, ScoreRecord, VoteRecord
from coderank.reranker.base import Reranker
from coderank.store import (
    COMPARISONS,
    EXECUTIONS,
    FEEDBACK,
    RERANKER_SCORES,
    RESPONSES,
    Store,
    doc_id,
)

log = logging.getLogger(__name__)


class Node(Protocol):
    def __call__(self, state: ComparisonState) -> dict[str, Any]: ...


class AnswersProblems(Protocol):
    def answer(self, problem: str) -> Answer: ...


def iso(moment: datetime) -> str:
    """A stored timestamp: UTC ISO 8601 with milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def now_iso() -> str:
    return iso(datetime.now(UTC))


@dataclass
class GraphServices:
    """What the nodes need, passed in by the composition root."""

    agents: Mapping[str, AnswersProblems]
    reranker: Reranker
    store: Store
    pair_policy: str = "top2"
    pair_explore: float = 0.2
    # FLAGGED_VOTERS: "exclude" leaves flagged voters out of what the active policy reads.
    flagged_voters: str = "keep"
    vote_quorum: int = 5
    # Voting closes by itself this long after it opens (0: only by hand or by quorum).
    vote_window_hours: float = 0.0
    model_name: str = ""
    executor: Executor | None = None  # runs each answer's code in the sandbox (None: never)
    tester: AnswersProblems | None = None  # writes tests from the problem alone (None: none)
    rng: random.Random = field(default_factory=random.Random)
    rng_lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    metrics: Metrics = field(default_factory=Metrics)
    # What the closed comparisons say per agent pair, read only by PAIR_POLICY=active.
    known_pairs: KnownPairs = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.known_pairs = KnownPairs(self.store, flagged_voters=self.flagged_voters)

    def now(self) -> str:
        return iso(self.clock())

    def save(self, state: ComparisonState, update: Mapping[str, Any]) -> dict[str, Any]:
        """Write the comparison as it is after ``update``; returns ``update`` with the time."""
        stamped = {**update, "updated_at": self.now()}
        merged: dict[str, Any] = {**state, **stamped}
        self.store.upsert(COMPARISONS, comparison_of(merged).to_document())
        return stamped


def begin_node(services: GraphServices) -> Node:
    """Record the comparison as generating, before the agents start."""

    def run(state: ComparisonState) -> dict[str, Any]:
        update = services.save(state, {"status": GENERATING, "llm_model": services.model_name})
        services.metrics.comparison_started()
        return update

    return run


def agent_node(name: str, services: GraphServices) -> Node:
    """A node that runs agent ``name`` and stores its response (failed ones too)."""

    def run(state: ComparisonState) -> dict[str, Any]:
        answer = services.agents[name].answer(state["problem"])
        services.metrics.answered(name, seconds=answer.latency_s, ok=answer.error is None)
        record = ResponseRecord.of(
            state["comparison_id"],
            state["problem"],
            answer,
            model=services.model_name,
            at=services.now(),
        )
        services.store.upsert(RESPONSES, record.to_document())
        return {"answers": [answer.to_dict()]}

    return run


def tester_node(services: GraphServices) -> Node:
    """The Tester writes tests from the problem alone, beside the agents (never seeing their
    answers). Nothing when there is no Tester or execution is off; a failed Tester only means
    fewer checks, never a failed comparison."""

    def run(state: ComparisonState) -> dict[str, Any]:
        executor = services.executor
        if services.tester is None or executor is None or executor.why_off() is not None:
            return {}
        answer = services.tester.answer(state["problem"])
        services.metrics.answered(TESTER, seconds=answer.latency_s, ok=answer.error is None)
        if answer.error is not None:
            log.warning("the Tester wrote no tests: %s", answer.error)
            return {}
        return {"tests": [check.source for check in tester_checks(answer.text)]}

    return run


def _ok_answers(state: ComparisonState) -> list[dict[str, Any]]:
    return [a for a in state.get("answers", []) if a["error"] is None and a["text"].strip()]


def _failure(state: ComparisonState) -> str | None:
    """Why the comparison cannot go on to a vote, or None."""
    answers = state.get("answers", [])
    fatal = next((a for a in answers if a.get("fatal")), None)
    if fatal is not None:  # the model went away mid-comparison: say so, not "2 of 3"
        return str(fatal["error"])
    ok = _ok_answers(state)
    if len(ok) >= 2:
        return None
    failed = [f"{a['agent']}: {a['error']}" for a in answers if a["error"]]
    return f"only {len(ok)} of {len(answers)} agents answered" + (
        f" ({'; '.join(failed)})" if failed else ""
    )


def score_node(services: GraphServices) -> Node:
    """Score the answers with the reranker and store one score per answer; a comparison with
    too few answers ends here, failed."""

    def run(state: ComparisonState) -> dict[str, Any]:
        error = _failure(state)
        if error is not None:
            update = services.save(
                state,
                {"error": error, "closed": True, "status": FAILED, "closed_at": services.now()},
            )
            fatal = any(a.get("fatal") for a in state.get("answers", []))
            services.metrics.comparison_failed(MODEL_UNAVAILABLE if fatal else TOO_FEW_ANSWERS)
            return update
        answers = sorted(_ok_answers(state), key=lambda a: a["agent"])
        cid = state["comparison_id"]
        values = services.reranker.score(state["problem"], [a["text"] for a in answers])
        model_id = services.reranker.model_id
        scores = {a["agent"]: float(v) for a, v in zip(answers, values, strict=True)}
        created = services.now()
        services.store.upsert_many(
            RERANKER_SCORES,
            [
                ScoreRecord(cid, agent, s, model_id, created).to_document()
                for agent, s in scores.items()
            ],
        )
        return {"scores": scores, "reranker_model": model_id}

    return run


def execute_node(services: GraphServices) -> Node:
    """Run each answer's code in the sandbox against the problem's examples and store what it
    showed, one ``executions`` document per answer (nothing when execution is off)."""

    def run(state: ComparisonState) -> dict[str, Any]:
        if services.executor is None:
            return {}
        codes = {a["agent"]: str(a.get("code") or "") for a in _ok_answers(state)}
        found = services.executor.check(state["problem"], codes, state.get("tests") or ())
        if found is None:
            return {}
        for execution in found.values():
            services.metrics.sandbox_ran(execution.outcome, seconds=execution.seconds)
        cid, at = state["comparison_id"], services.now()
        results = {agent: execution_dict(e) for agent, e in found.items()}
        services.store.upsert_many(
            EXECUTIONS,
            [
                {"_id": doc_id(cid, agent), "comparison_id": cid, "agent": agent,
                 "created_at": at, **result}
                for agent, result in results.items()
            ],
        )  # fmt: skip
        return {"executions": results}

    return run


def choose_pair_node(services: GraphServices) -> Node:
    """Choose the pair to show and open voting, with its deadline."""

    def run(state: ComparisonState) -> dict[str, Any]:
        known = services.known_pairs.read() if services.pair_policy == "active" else None
        with services.rng_lock:
            pair = vote_logic.choose_pair(
                state["scores"],
                policy=services.pair_policy,
                explore=services.pair_explore,
                rng=services.rng,
                ran={a: float(e["score"]) for a, e in (state.get("executions") or {}).items()},
                known=known,
            )
        if known is not None:
            log.info("active pair %s/%s, probability %.4f", pair.a, pair.b, pair.probability)
        hours = services.vote_window_hours
        deadline = iso(services.clock() + timedelta(hours=hours)) if hours > 0 else None
        update = {
            "pair": pair.to_dict(),
            "votes": {},
            "closed": False,
            "status": VOTING,
            "deadline": deadline,
        }
        return services.save(state, update)

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
            return {"closed": True, "closed_by": pending["user"], "closed_how": pending["how"]}
        cid, user, choice = state["comparison_id"], pending["user"], pending["choice"]
        key = doc_id(cid, user)
        earlier = services.store.get(FEEDBACK, key)
        now = services.now()
        vote = VoteRecord.of(
            comparison_of(state),
            user,
            choice,
            first=earlier["created_at"] if earlier else now,
            at=now,
        )
        services.store.upsert(FEEDBACK, vote.to_document())
        services.metrics.voted()
        votes = {**state.get("votes", {}), user: choice}
        quorum = services.vote_quorum
        if quorum and len(votes) >= quorum:
            return {
                "votes": votes,
                "closed": True,
                "closed_by": CLOSED_BY_QUORUM,
                "closed_how": BY_QUORUM,
            }
        return services.save(state, {"votes": votes})

    return run


def finalize_node(services: GraphServices) -> Node:
    """Close the comparison: its outcome is the majority of the votes it has."""

    def run(state: ComparisonState) -> dict[str, Any]:
        update = services.save(state, {"status": CLOSED, "closed_at": services.now()})
        services.metrics.comparison_closed(str(state.get("closed_how") or "unknown"))
        return update

    return run
