"""Comparisons as the adapters see them: start one, vote on it, close it, read it.

A ``comparison_id`` is the LangGraph ``thread_id``. Resumes of one thread are serialised, a
resume is only sent to a thread that is waiting for a vote, and a vote equal to the user's
current vote is not resent (LangGraph would take it as the answer to the next interrupt). The
voting deadline is kept with the comparison: a vote after it closes the comparison instead, and
:meth:`Comparisons.close_due` closes every comparison past it (the scheduled jobs call it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from coderank.coordination.base import Locks
from coderank.errors import (
    CheckpointMovedError,
    CoderankError,
    CoordinationError,
    GenerationError,
    UnknownComparisonError,
    VotingClosedError,
)
from coderank.graph.checkpoint import ThreadLocks
from coderank.graph.nodes import iso
from coderank.graph.state import ComparisonState, comparison_of
from coderank.graph.votes import parse_resume
from coderank.logs import comparison_context
from coderank.metrics import ERROR, Metrics
from coderank.models import (
    BY_DEADLINE,
    BY_REQUESTER,
    CLOSED_BY_TIME,
    FAILED,
    VOTING,
    Comparison,
)
from coderank.problems import validate_problem
from coderank.redaction import Redactor
from coderank.store import COMPARISONS, Store

if TYPE_CHECKING:
    from coderank.graph.build import ComparisonGraph

log = logging.getLogger(__name__)

RESUME_ATTEMPTS = 5

ProgressCallback = Callable[[str, Mapping[str, Any]], None]


def new_comparison_id() -> str:
    return f"c{uuid.uuid4().hex[:15]}"


@dataclass(frozen=True)
class VoteResult:
    """What a vote did: ``changed`` is false when it repeated the user's current vote."""

    comparison: Comparison
    user: str
    choice: str
    changed: bool

    @property
    def comparison_id(self) -> str:
        return self.comparison.comparison_id

    @property
    def voters(self) -> int:
        return self.comparison.voters

    @property
    def closed(self) -> bool:
        return self.comparison.closed


class Comparisons:
    """Starts, votes on, closes and reads comparison threads of a compiled graph."""

    def __init__(
        self,
        graph: ComparisonGraph,
        *,
        store: Store,
        locks: Locks | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.graph = graph
        # An error is stored and shown as this shows it: no secret, one line.
        self.redactor = redactor or Redactor()
        self.store = store
        self.locks: Locks = locks or ThreadLocks()
        self.clock = clock
        self.metrics = metrics or Metrics()

    @staticmethod
    def _config(comparison_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": comparison_id}}

    def start(
        self,
        problem: str,
        *,
        requester: str,
        source: str,
        comparison_id: str | None = None,
        surface: Mapping[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Comparison:
        """Run the agents, score, choose the pair, and stop at the vote.

        Starting a ``comparison_id`` that already exists returns it and runs nothing, unless its
        run was cut off part-way (the process stopped): then it continues from the last
        checkpoint, without running again the agents that had finished. ``surface`` is kept with
        the comparison for its adapter (e.g. Slack channel and message).

        Raises:
            InvalidProblemError: before anything runs or is stored.
            GenerationError: it failed (fewer than two answers, the model went away, ...); what
                was made is stored and the comparison is recorded as failed.
        """
        problem = validate_problem(problem)
        cid = comparison_id or new_comparison_id()
        initial: ComparisonState = {
            "comparison_id": cid,
            "problem": problem,
            "requester": requester,
            "source": source,
            "surface": dict(surface or {}),
            "created_at": iso(self.clock()),
        }
        with comparison_context(cid), self.locks.hold(cid):
            graph_input: ComparisonState | None = initial
            snapshot = self.graph.get_state(self._config(cid)) if comparison_id else None
            if snapshot is not None and snapshot.values:
                if snapshot.interrupts or not snapshot.next:
                    # Waiting for votes, closed, or failed: a retried start runs nothing again.
                    return self._started(cid)
                graph_input = None  # LangGraph continues the thread from its checkpoint
            try:
                for update in self.graph.stream(
                    graph_input, self._config(cid), stream_mode="updates", durability="sync"
                ):
                    for node, value in update.items():
                        if on_progress is not None and node != "__interrupt__":
                            on_progress(node, value or {})
            except Exception as exc:  # recorded, then raised: nothing is left "generating"
                self._record_failure(cid, initial, exc)
                if isinstance(exc, CoderankError):
                    raise GenerationError(self.redactor.shown(str(exc))) from exc
                raise
        return self._started(cid)

    def _record_failure(self, cid: str, initial: Mapping[str, Any], exc: Exception) -> None:
        """A run that raised (a store or model error) is recorded as failed, so it is not left
        "generating" in the store."""
        self.metrics.comparison_failed(ERROR)
        values = dict(self.graph.get_state(self._config(cid)).values or initial)
        failed = replace(
            comparison_of(values),
            status=FAILED,
            error=self.redactor.shown(str(exc)),
            closed_at=iso(self.clock()),
        )
        try:
            self.store.upsert(COMPARISONS, failed.to_document())
        except CoderankError:
            log.exception("could not record comparison %s as failed", cid)

    def _started(self, comparison_id: str) -> Comparison:
        comparison = self.get(comparison_id)
        if comparison.error:
            raise GenerationError(comparison.error)
        return comparison

    def get(self, comparison_id: str) -> Comparison:
        """The comparison as its checkpoint holds it now.

        Raises:
            UnknownComparisonError: if no such comparison was started.
        """
        snapshot = self.graph.get_state(self._config(comparison_id))
        if not snapshot.values:
            raise UnknownComparisonError(f"no comparison {comparison_id!r}")
        # The checkpoint's own time dates what the previous version did not record (closed_at).
        return comparison_of(snapshot.values, updated_at=snapshot.created_at)

    def _resume(self, comparison_id: str, value: dict[str, str]) -> Comparison:
        """Send ``value`` to the thread's interrupt (the caller holds its lock). A resume the
        checkpointer's fence refuses (another process moved the thread on meanwhile, which
        only a writer without the lock can do) is read again and retried: never forked."""
        for attempt in range(1, RESUME_ATTEMPTS + 1):
            snapshot = self.graph.get_state(self._config(comparison_id))
            if not snapshot.values:
                raise UnknownComparisonError(f"no comparison {comparison_id!r}")
            if not snapshot.interrupts:
                raise VotingClosedError(f"voting on {comparison_id} is closed")
            try:
                self.graph.invoke(
                    Command(resume=value), self._config(comparison_id), durability="sync"
                )
            except CheckpointMovedError as exc:
                log.warning("resume of %s refused (%s), try %d", comparison_id, exc, attempt)
                continue
            return self.get(comparison_id)
        raise CoordinationError(
            f"comparison {comparison_id} kept moving on while this vote was recorded: try again"
        )

    def _past_deadline(self, comparison: Comparison) -> bool:
        return (
            comparison.status == VOTING
            and comparison.deadline is not None
            and iso(self.clock()) >= comparison.deadline
        )

    def vote(self, comparison_id: str, *, user: str, choice: str) -> VoteResult:
        """Record ``user``'s vote (replacing an earlier one). Returns once it is checkpointed and
        stored.

        Raises:
            InvalidVoteError, UnknownComparisonError, VotingClosedError (a vote after the
            deadline closes the comparison, and the error carries it as ``comparison``).
        """
        value = parse_resume({"user": user, "choice": choice})
        with comparison_context(comparison_id), self.locks.hold(comparison_id):
            current = self.get(comparison_id)
            if self._past_deadline(current):
                closed = self._close_by_deadline(comparison_id)
                raise VotingClosedError(f"voting on {comparison_id} is closed", comparison=closed)
            if current.votes.get(user) == choice and current.voting:
                return VoteResult(current, user, choice, changed=False)
            comparison = self._resume(comparison_id, value)
        return VoteResult(comparison, user, choice, changed=True)

    def close(self, comparison_id: str, *, user: str, how: str = BY_REQUESTER) -> Comparison:
        """Close voting (``how``: requester, admin or deadline); returns the closed comparison."""
        value = parse_resume({"action": "close", "user": user, "how": how})
        with comparison_context(comparison_id), self.locks.hold(comparison_id):
            return self._resume(comparison_id, value)

    def _close_by_deadline(self, comparison_id: str) -> Comparison:
        value = parse_resume({"action": "close", "user": CLOSED_BY_TIME, "how": BY_DEADLINE})
        return self._resume(comparison_id, value)

    def close_due(self) -> list[Comparison]:
        """Close every comparison whose voting deadline has passed; returns those it closed."""
        due = self.store.find(
            COMPARISONS, {"status": VOTING, "deadline": {"$lt": iso(self.clock())}}
        )
        closed = []
        for doc in list(due):
            cid = str(doc["comparison_id"])
            try:
                with comparison_context(cid), self.locks.hold(cid):
                    if self._past_deadline(self.get(cid)):
                        closed.append(self._close_by_deadline(cid))
            except (VotingClosedError, UnknownComparisonError) as exc:
                log.warning(
                    "comparison %s past its deadline: %s", cid, exc, extra={"comparison_id": cid}
                )
        return closed
