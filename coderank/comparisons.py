"""Comparisons as the adapters see them: start one, vote on it, close it.

A ``comparison_id`` is the LangGraph ``thread_id``. Resumes of one thread are serialised, a
resume is only sent to a thread that is waiting for a vote, and a vote equal to the user's
current vote is not resent (LangGraph would take it as the answer to the next interrupt).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langgraph.types import Command

from coderank.config import MAX_PROBLEM_CHARS
from coderank.errors import (
    GenerationError,
    InvalidProblemError,
    UnknownComparisonError,
    VotingClosedError,
)
from coderank.graph.checkpoint import ThreadLocks
from coderank.graph.nodes import now_iso
from coderank.graph.votes import parse_resume

ProgressCallback = Callable[[str, dict[str, Any]], None]


# Bidirectional embeddings, overrides and isolates make text read otherwise than it is ("Trojan
# Source"); nothing in a Python problem needs them.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Control and format characters (zero-width spaces, joiners, BOM), separators, and marks that
# only modify the character before them (variation selectors, combining marks) show nothing alone.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Zs", "Zl", "Zp"})
# Letters and symbols that render as blanks.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(ch: str) -> bool:
    return ch in _BLANKS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def _is_edge_padding(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def validate_problem(text: str | None) -> str:
    """The problem without bidirectional controls, and stripped of whitespace and format
    characters at both ends (joiners inside, as in emoji sequences, are kept).

    Raises:
        InvalidProblemError: if nothing of it is visible, or it is longer than
            ``MAX_PROBLEM_CHARS``.
    """
    problem = (text or "").translate(_BIDI_CONTROLS)
    start, end = 0, len(problem)
    while start < end and _is_edge_padding(problem[start]):
        start += 1
    while end > start and _is_edge_padding(problem[end - 1]):
        end -= 1
    problem = problem[start:end]
    if all(_shows_nothing(ch) for ch in problem):
        raise InvalidProblemError("the problem is empty: describe a Python task to solve")
    if len(problem) > MAX_PROBLEM_CHARS:
        raise InvalidProblemError(
            f"the problem is {len(problem):,} characters long; the limit is {MAX_PROBLEM_CHARS:,}"
        )
    return problem


def new_comparison_id() -> str:
    return f"c{uuid.uuid4().hex[:15]}"


@dataclass(frozen=True)
class VoteResult:
    """What a vote did: ``changed`` is false when it repeated the user's current vote."""

    comparison_id: str
    user: str
    choice: str
    voters: int
    closed: bool
    changed: bool


class Comparisons:
    """Starts, votes on and closes comparison threads of a compiled graph."""

    def __init__(self, graph: Any, *, locks: ThreadLocks | None = None) -> None:
        self.graph = graph
        self.locks = locks or ThreadLocks()

    @staticmethod
    def _config(comparison_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": comparison_id}}

    def start(
        self,
        problem: str,
        *,
        requester: str,
        source: str,
        comparison_id: str | None = None,
        surface: dict[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Run the agents, score, choose the pair, and stop at the vote. Returns the state.

        Starting a ``comparison_id`` that already exists returns its state and runs nothing, unless
        its run was cut off part-way (the process stopped): then it continues from the last
        checkpoint, without running again the agents that had finished. ``surface`` is kept with
        the comparison for its adapter (e.g. Slack channel and message).

        Raises:
            InvalidProblemError: before anything runs or is stored.
            GenerationError: fewer than two agents answered (their answers are stored).
        """
        problem = validate_problem(problem)
        cid = comparison_id or new_comparison_id()
        initial = {
            "comparison_id": cid,
            "problem": problem,
            "requester": requester,
            "source": source,
            "surface": surface or {},
            "created_at": now_iso(),
        }
        with self.locks.hold(cid):
            graph_input: dict[str, Any] | None = initial
            snapshot = self.graph.get_state(self._config(cid)) if comparison_id else None
            if snapshot is not None and snapshot.values:
                if snapshot.interrupts or not snapshot.next:
                    # Waiting for votes, closed, or failed: a retried start runs nothing again.
                    return self._started(cid)
                graph_input = None  # LangGraph continues the thread from its checkpoint
            for update in self.graph.stream(
                graph_input, self._config(cid), stream_mode="updates", durability="sync"
            ):
                for node, value in update.items():
                    if on_progress is not None and node != "__interrupt__":
                        on_progress(node, value or {})
        return self._started(cid)

    def _started(self, comparison_id: str) -> dict[str, Any]:
        state = self.state(comparison_id)
        if state.get("error"):
            raise GenerationError(state["error"])
        return state

    def state(self, comparison_id: str) -> dict[str, Any]:
        """The thread's current values.

        Raises:
            UnknownComparisonError: if no such comparison was started.
        """
        snapshot = self.graph.get_state(self._config(comparison_id))
        if not snapshot.values:
            raise UnknownComparisonError(f"no comparison {comparison_id!r}")
        return dict(snapshot.values)

    def _resume(self, comparison_id: str, value: dict[str, str]) -> dict[str, Any]:
        snapshot = self.graph.get_state(self._config(comparison_id))
        if not snapshot.values:
            raise UnknownComparisonError(f"no comparison {comparison_id!r}")
        if not snapshot.interrupts:
            raise VotingClosedError(f"voting on {comparison_id} is closed")
        self.graph.invoke(Command(resume=value), self._config(comparison_id), durability="sync")
        return self.state(comparison_id)

    def vote(self, comparison_id: str, *, user: str, choice: str) -> VoteResult:
        """Record ``user``'s vote (replacing an earlier one). Returns once it is checkpointed and
        stored.

        Raises:
            InvalidVoteError, UnknownComparisonError, VotingClosedError.
        """
        value = parse_resume({"user": user, "choice": choice})
        with self.locks.hold(comparison_id):
            current = self.state(comparison_id)
            votes = current.get("votes", {})
            if votes.get(user) == choice and not current.get("closed"):
                return VoteResult(comparison_id, user, choice, len(votes), False, changed=False)
            state = self._resume(comparison_id, value)
        return VoteResult(
            comparison_id,
            user,
            choice,
            voters=len(state.get("votes", {})),
            closed=bool(state.get("closed")),
            changed=True,
        )

    def close(self, comparison_id: str, *, user: str) -> dict[str, Any]:
        """Close voting; returns the final state with ``outcome`` and ``reranker_agrees``."""
        value = parse_resume({"action": "close", "user": user})
        with self.locks.hold(comparison_id):
            return self._resume(comparison_id, value)
