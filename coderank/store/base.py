"""The ``Store`` interface: five collections of JSON documents keyed by deterministic ids."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

COMPARISONS = "comparisons"
RESPONSES = "responses"
FEEDBACK = "feedback"
RERANKER_SCORES = "reranker_scores"
EVALUATION_RESULTS = "evaluation_results"
EXECUTIONS = "executions"
COLLECTIONS = (COMPARISONS, RESPONSES, FEEDBACK, RERANKER_SCORES, EVALUATION_RESULTS, EXECUTIONS)

# The fields each collection is queried by (a comparison's documents, a time window of votes,
# the runs of one kind): every store indexes these, and only these.
INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    # Closed ones in a window (evaluation, digest, export), open ones past their deadline, and
    # one person's (their own figures).
    COMPARISONS: ("status", "closed_at", "deadline", "requester", "created_at"),
    RESPONSES: ("comparison_id",),
    FEEDBACK: ("comparison_id", "created_at"),
    RERANKER_SCORES: ("comparison_id",),
    EXECUTIONS: ("comparison_id",),
    EVALUATION_RESULTS: ("kind", "created_at"),
}

Document = dict[str, Any]


class Store(Protocol):
    """Where responses, votes, scores and evaluation results live.

    Every document has a deterministic ``_id``; ``upsert`` replaces the document with that id, so
    a retried write never duplicates. Filters are on ``_id`` and the indexed top-level fields:
    equality, or a range ``{"$gte": low, "$lt": high}`` (either bound may be left out).
    """

    def upsert(self, collection: str, doc: Mapping[str, Any]) -> None:
        """Insert ``doc`` or replace the document with the same ``_id``."""
        ...

    def upsert_many(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> None:
        """Upsert several documents in one transaction."""
        ...

    def get(self, collection: str, doc_id: str) -> Document | None:
        """The document with ``doc_id``, or ``None``."""
        ...

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
    ) -> Iterator[Document]:
        """Documents matching ``filter``, streamed in pages (never all loaded at once).

        The order is the store's own (SQLite: first write first); callers must not rely on it.
        """
        ...

    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        """How many documents match ``filter``."""
        ...

    def ping(self, *, timeout_s: float) -> None:
        """One cheap call, never retried, that answers within about ``timeout_s`` (readiness).

        Raises:
            StoreError: the store did not answer, and why (never a secret).
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class Window:
    """``since <= t < until`` on ISO 8601 UTC timestamps (they sort in time order as strings);
    either bound may be ``None``. The store filters with it, and in-memory readers check with
    it, so both agree on every boundary."""

    since: str | None = None
    until: str | None = None

    def contains(self, moment: str | None) -> bool:
        if moment is None:  # as in the stores: a missing field matches no bound
            return self.since is None and self.until is None
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )

    def filter(self, field: str) -> dict[str, Any]:
        """A store filter on ``field`` (empty when both bounds are ``None``)."""
        bounds = {op: v for op, v in (("$gte", self.since), ("$lt", self.until)) if v is not None}
        return {field: bounds} if bounds else {}


def doc_id(*parts: str) -> str:
    """The deterministic id of a document: its parts joined by ``:``."""
    return ":".join(parts)
