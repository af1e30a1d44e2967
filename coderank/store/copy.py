"""Copy every document from one store to another, idempotently (upserts by ``_id``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coderank.store.base import COLLECTIONS, Document, Store

BATCH = 100


@dataclass(frozen=True)
class CopyCount:
    collection: str
    copied: int
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


def copy_store(
    source: Store,
    target: Store,
    *,
    batch: int = BATCH,
    on_batch: Callable[[str, int], None] | None = None,
) -> list[CopyCount]:
    """Stream each collection of ``source`` into ``target`` in batches; ``on_batch(collection,
    n)`` is told after each batch. Running it again copies the same documents onto themselves."""
    counts = []
    for name in COLLECTIONS:
        copied = 0
        pending: list[Document] = []
        for doc in source.find(name):
            pending.append(doc)
            if len(pending) == batch:
                target.upsert_many(name, list(pending))
                copied += len(pending)
                if on_batch:
                    on_batch(name, len(pending))
                pending.clear()
        if pending:
            target.upsert_many(name, pending)
            copied += len(pending)
            if on_batch:
                on_batch(name, len(pending))
        counts.append(CopyCount(name, copied, source.count(name), target.count(name)))
    return counts
