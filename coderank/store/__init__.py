"""Document stores: the interface and a factory choosing the implementation from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coderank.store.base import (
    COLLECTIONS,
    EVALUATION_RESULTS,
    FEEDBACK,
    RERANKER_SCORES,
    RESPONSES,
    Document,
    Store,
    doc_id,
)

if TYPE_CHECKING:
    from coderank.config import Settings

__all__ = [
    "COLLECTIONS",
    "EVALUATION_RESULTS",
    "FEEDBACK",
    "RERANKER_SCORES",
    "RESPONSES",
    "Document",
    "Store",
    "doc_id",
    "open_store",
]


def open_store(settings: Settings) -> Store:
    """Open the store named by ``settings.store`` (``sqlite`` today)."""
    from coderank.store.sqlite import SQLiteStore

    return SQLiteStore(settings.sqlite_path)
