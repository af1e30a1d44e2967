"""The state of one comparison thread."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


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
    reranker_model: str
    pair: dict[str, Any]
    votes: dict[str, str]
    pending: dict[str, str]
    closed: bool
    closed_by: str | None
    outcome: str | None
    reranker_agrees: bool | None
    error: str | None
