"""Copy every document from one store to another, idempotently (upserts by ``_id``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """``docs`` in lists of ``size`` (the last may be shorter), read as they are needed."""
    chunk: list[Document] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
        for chunk in _batches(source.find(name), batch):
            target.upsert_many(name, chunk)
            copied += len(chunk)
            if on_batch:
                on_batch(name, len(chunk))
        counts.append(CopyCount(name, copied, source.count(name), target.count(name)))
    return counts
