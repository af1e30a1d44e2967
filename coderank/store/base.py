"""The ``Store`` interface: four collections of JSON documents keyed by deterministic ids."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

RESPONSES = "responses"
FEEDBACK = "feedback"
RERANKER_SCORES = "reranker_scores"
EVALUATION_RESULTS = "evaluation_results"
COLLECTIONS = (RESPONSES, FEEDBACK, RERANKER_SCORES, EVALUATION_RESULTS)

Document = dict[str, Any]


class Store(Protocol):
    """Where responses, votes, scores and evaluation results live.

    Every document has a deterministic ``_id``; ``upsert`` replaces the document with that id, so
    a retried write never duplicates. Filters are equality on top-level fields.
    """

    def upsert(self, collection: str, doc: Mapping[str, Any]) -> None:
        """Insert ``doc`` or replace the document with the same ``_id``."""
        ...

    def upsert_many(self, collection: str, docs: list[Mapping[str, Any]]) -> None:
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
        """Documents matching ``filter``, oldest write first, streamed in pages."""
        ...

    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        """How many documents match ``filter``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def doc_id(*parts: str) -> str:
    """The deterministic id of a document: its parts joined by ``:``."""
    return ":".join(parts)
