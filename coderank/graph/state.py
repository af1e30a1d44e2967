"""The state of one comparison thread, and the :class:`Comparison` it describes."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from coderank.evaluation.style import style_of
from coderank.models import (
    BY_ADMIN,
    BY_DEADLINE,
    BY_QUORUM,
    BY_REQUESTER,
    CLOSED,
    CLOSED_BY_QUORUM,
    CLOSED_BY_TIME,
    FAILED,
    GENERATING,
    VOTING,
    Answer,
    Comparison,
    Pair,
)


class ComparisonState(TypedDict, total=False):
    """What a comparison's LangGraph thread holds between votes."""

    comparison_id: str
    problem: str
    requester: str
    source: str
    # Where the adapter shows the comparison (e.g. Slack channel and message ts).
    surface: dict[str, str]
    created_at: str
    # Each agent node appends its answer; the three run in one superstep.
    answers: Annotated[list[dict[str, Any]], operator.add]
    scores: dict[str, float]
    # The Tester's tests (assert lines written from the problem alone); empty without a Tester
    tests: list[str]
    # agent -> the stored execution (see coderank.execution), when execution is on
    executions: dict[str, dict[str, Any]]
    reranker_model: str
    llm_model: str
    pair: dict[str, Any]
    votes: dict[str, str]
    pending: dict[str, str]
    status: str
    deadline: str | None
    closed: bool
    closed_at: str | None
    closed_by: str | None
    closed_how: str | None
    # Kept by the previous version's finalize; the outcome is derived from the votes now.
    outcome: str | None
    reranker_agrees: bool | None
    error: str | None
    updated_at: str


def status_of(values: Mapping[str, Any]) -> str:
    """The status of a thread's values, also for threads written before ``status`` was kept."""
    if values.get("status"):
        return str(values["status"])
    if values.get("error"):
        return FAILED
    if values.get("closed") and values.get("pair"):
        return CLOSED
    return VOTING if values.get("pair") else GENERATING


def closed_how(closed_by: str | None, requester: str | None) -> str | None:
    """How a comparison closed, from who closed it (for threads of the previous version)."""
    if closed_by is None:
        return None
    if closed_by == CLOSED_BY_QUORUM:
        return BY_QUORUM
    if closed_by == CLOSED_BY_TIME:
        return BY_DEADLINE
    return BY_REQUESTER if closed_by == requester else BY_ADMIN


def comparison_of(values: Mapping[str, Any], *, updated_at: str | None = None) -> Comparison:
    """The :class:`Comparison` a thread's values describe."""
    status = status_of(values)
    closed_by = values.get("closed_by") if status == CLOSED else None
    return Comparison(
        comparison_id=str(values["comparison_id"]),
        problem=str(values.get("problem") or ""),
        requester=str(values.get("requester") or ""),
        source=str(values.get("source") or ""),
        created_at=str(values.get("created_at") or ""),
        status=status,
        surface=dict(values.get("surface") or {}),
        answers=tuple(Answer.from_dict(a) for a in values.get("answers", [])),
        scores=dict(values.get("scores") or {}),
        reranker_model=values.get("reranker_model"),
        llm_model=values.get("llm_model"),
        pair=Pair.from_dict(values["pair"]) if values.get("pair") else None,
        votes=dict(values.get("votes") or {}),
        deadline=values.get("deadline"),
        closed_at=values.get("closed_at") or (updated_at if status in (CLOSED, FAILED) else None),
        closed_by=closed_by,
        closed_how=values.get("closed_how") or closed_how(closed_by, values.get("requester")),
        error=values.get("error"),
        updated_at=values.get("updated_at") or updated_at,
        tests=tuple(values.get("tests") or ()),
        style={
            a["agent"]: style_of(a["text"])
            for a in values.get("answers", [])
            if a.get("error") is None and a.get("text")
        },
        checks={a: str(e["summary"]) for a, e in (values.get("executions") or {}).items()},
        execution_scores={
            a: float(e["score"]) for a, e in (values.get("executions") or {}).items()
        },
    )
