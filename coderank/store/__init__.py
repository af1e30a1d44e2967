"""Document stores: the interface and a factory choosing the implementation from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coderank.store.base import (
    COLLECTIONS,
    COMPARISONS,
    EVALUATION_RESULTS,
    EXECUTIONS,
    FEEDBACK,
    INDEXED_FIELDS,
    RERANKER_SCORES,
    RESPONSES,
    Document,
    Store,
    Window,
    doc_id,
)

if TYPE_CHECKING:
    from coderank.config import Settings

__all__ = [
    "COLLECTIONS",
    "COMPARISONS",
    "EVALUATION_RESULTS",
    "EXECUTIONS",
    "FEEDBACK",
    "INDEXED_FIELDS",
    "RERANKER_SCORES",
    "RESPONSES",
    "Document",
    "Store",
    "Window",
    "doc_id",
    "open_store",
]


def open_store(settings: Settings, kind: str | None = None) -> Store:
    """Open the store named by ``kind`` (default ``settings.store``): ``sqlite`` or ``astra``."""
    kind = kind or settings.store
    if kind == "astra":
        from coderank.store.astra import AstraStore

        if not settings.astra_endpoint or not settings.astra_token:
            from coderank.errors import ConfigError

            raise ConfigError(
                "the astra store needs ASTRA_DB_API_ENDPOINT and ASTRA_DB_APPLICATION_TOKEN"
            )
        return AstraStore(
            settings.astra_endpoint,
            settings.astra_token,
            keyspace=settings.astra_keyspace,
            request_timeout_s=settings.astra_request_timeout_s,
            retry_budget_s=settings.astra_retry_budget_s,
        )
    from coderank.store.sqlite import SQLiteStore

    return SQLiteStore(settings.sqlite_path)
