"""The AstraDB store through astrapy 2.x: the only module that imports astrapy.

Same guarantees as the embedded store: deterministic ``_id``s and upserts (a retried write never
duplicates), streamed reads, and the queried fields indexed (and only those). Transient failures
(timeouts, 5xx, 429, dropped connections) are retried with exponential backoff within a bounded
time; authentication and a missing keyspace or database are reported naming the setting to fix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import httpx
from astrapy import Collection, DataAPIClient, Database
from astrapy.api_options import APIOptions, TimeoutOptions
from astrapy.data.cursors.pagination import FindPage
from astrapy.exceptions import (
    CollectionInsertManyException,
    DataAPIException,
    DataAPIHttpException,
    DataAPIResponseException,
    DataAPITimeoutException,
    TooManyDocumentsToCountException,
)
from astrapy.info import CollectionDefinition
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from coderank.errors import StoreError
from coderank.store.base import COLLECTIONS, EVALUATION_RESULTS, INDEXED_FIELDS, Document

log = logging.getLogger(__name__)

T = TypeVar("T")
COUNT_LIMIT = 1000  # countDocuments counts exactly only up to this many
INSERT_CHUNK = 100  # the most documents one insertMany takes
PING_ID = "readiness:ping"  # read, never written: a lookup by _id is the cheapest call there is


def is_transient(exc: BaseException) -> bool:
    """Timeouts, dropped connections, HTTP 429 and 5xx: worth trying again."""
    if isinstance(exc, DataAPITimeoutException | httpx.TimeoutException | httpx.TransportError):
        return True
    if isinstance(exc, DataAPIHttpException):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return False


def _fetch_page(
    coll: Collection[Document],
    query: dict[str, Any],
    projection: dict[str, Any] | None,
    state: str | None,
) -> FindPage[Document]:
    if state:
        return coll.find(query, projection=projection, initial_page_state=state).fetch_next_page()
    return coll.find(query, projection=projection).fetch_next_page()


def _error_codes(exc: DataAPIException) -> set[str]:
    if isinstance(exc, DataAPIResponseException):
        return {d.error_code or "" for d in exc.error_descriptors}
    return set()


class AstraStore:
    """A :class:`~coderank.store.base.Store` over four Astra DB collections."""

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        keyspace: str = "default_keyspace",
        request_timeout_s: float = 10.0,
        retry_budget_s: float = 30.0,
    ) -> None:
        self._token = token
        self._keyspace = keyspace
        self._endpoint = endpoint
        self._retry_budget_s = retry_budget_s
        timeout_ms = int(request_timeout_s * 1000)
        options = APIOptions(
            timeout_options=TimeoutOptions(
                request_timeout_ms=timeout_ms,
                general_method_timeout_ms=timeout_ms,
                collection_admin_timeout_ms=max(timeout_ms, 60_000),
            )
        )
        self._db: Database = DataAPIClient(api_options=options).get_database(
            endpoint, token=token, keyspace=keyspace
        )
        self._collections: dict[str, Collection[Document]] = {}
        self._lock = threading.Lock()
        self._ensure_collections()

    # --- errors and retries -------------------------------------------------------------------

    def _explain(self, exc: BaseException, doing: str) -> StoreError:
        """A StoreError naming the setting to fix; the token never appears in it."""
        if isinstance(exc, DataAPIHttpException) and exc.response.status_code in (401, 403):
            text = (
                f"Astra refused the token while {doing} (HTTP {exc.response.status_code}): check "
                "ASTRA_DB_APPLICATION_TOKEN (a Database Administrator or read/write token)"
            )
        elif isinstance(exc, DataAPIHttpException) and exc.response.status_code == 404:
            text = (
                f"no Astra database answers at ASTRA_DB_API_ENDPOINT={self._endpoint!r} while "
                f"{doing}: check the endpoint"
            )
        elif isinstance(exc, DataAPIException) and _error_codes(exc) & {
            "KEYSPACE_DOES_NOT_EXIST",
            "NAMESPACE_DOES_NOT_EXIST",
        }:
            text = (
                f"ASTRA_DB_KEYSPACE={self._keyspace!r} does not exist in this database: create it "
                "in the Astra console or set ASTRA_DB_KEYSPACE"
            )
        elif isinstance(exc, httpx.ConnectError):
            text = (
                f"cannot reach ASTRA_DB_API_ENDPOINT={self._endpoint!r} while {doing}: check the "
                "endpoint and the network"
            )
        elif is_transient(exc):
            text = (
                f"Astra did not answer while {doing} after retrying for "
                f"{self._retry_budget_s:g} s ({type(exc).__name__})"
            )
        else:
            text = f"Astra failed while {doing}: {exc}"
        return StoreError(text.replace(self._token, "***"))

    def _call(self, doing: str, operation: Callable[[], T]) -> T:
        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "Astra %s: retry %d after %s", doing, state.attempt_number, type(exc).__name__
            )

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_delay(self._retry_budget_s),
            wait=wait_exponential_jitter(multiplier=0.2, max=5.0),
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            return retrying(operation)
        except (DataAPIException, httpx.HTTPError) as exc:
            raise self._explain(exc, doing) from exc

    # --- collections ------------------------------------------------------------------------

    def _ensure_collections(self) -> None:
        """Create the missing collections, indexing only the queried fields. Safe when several
        processes start at once: creating an existing collection with the same options is a
        no-op in the Data API."""
        existing = set(self._call("listing collections", self._db.list_collection_names))
        for name in COLLECTIONS:
            if name in existing:
                self._collections[name] = self._db.get_collection(name)
                continue
            definition = (
                CollectionDefinition.builder()
                .with_indexing("allow", list(INDEXED_FIELDS[name]))
                .build()
            )
            self._collections[name] = self._call(
                f"creating the {name} collection",
                partial(self._db.create_collection, name, definition=definition),
            )

    def _coll(self, name: str) -> Collection[Document]:
        if name not in self._collections:
            raise StoreError(
                f"unknown collection {name!r}: expected one of {', '.join(COLLECTIONS)}"
            )
        return self._collections[name]

    # --- the Store interface ------------------------------------------------------------------

    def upsert(self, collection: str, doc: Mapping[str, Any]) -> None:
        coll = self._coll(collection)
        if not isinstance(doc.get("_id"), str) or not doc["_id"]:
            raise StoreError(f"a document for {collection} has no _id")
        self._call(
            f"writing to {collection}",
            lambda: coll.replace_one({"_id": doc["_id"]}, dict(doc), upsert=True),
        )

    def upsert_many(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> None:
        """Insert the new documents in bulk and replace only those that changed, so copying the
        same documents again costs reads, not writes."""
        coll = self._coll(collection)
        if any(not isinstance(d.get("_id"), str) or not d["_id"] for d in docs):
            raise StoreError(f"a document for {collection} has no _id")
        for start in range(0, len(docs), INSERT_CHUNK):
            chunk = [dict(d) for d in docs[start : start + INSERT_CHUNK]]
            query = {"_id": {"$in": [d["_id"] for d in chunk]}}
            existing = {
                d["_id"]: d
                for page in self._pages(coll, query, f"reading {collection}")
                for d in page
            }
            new = [d for d in chunk if d["_id"] not in existing]
            changed = [d for d in chunk if d["_id"] in existing and existing[d["_id"]] != d]
            if new:
                try:
                    self._call(
                        f"writing to {collection}",
                        partial(coll.insert_many, new, ordered=False, chunk_size=INSERT_CHUNK),
                    )
                except StoreError as exc:
                    if not isinstance(exc.__cause__, CollectionInsertManyException):
                        raise
                    # Written meanwhile by another process, or failed: replace one by one.
                    inserted = set(exc.__cause__.inserted_ids)
                    changed += [d for d in new if d["_id"] not in inserted]
            for doc in changed:
                self.upsert(collection, doc)

    def get(self, collection: str, doc_id: str) -> Document | None:
        coll = self._coll(collection)
        found = self._call(f"reading {collection}", lambda: coll.find_one({"_id": doc_id}))
        return dict(found) if found is not None else None

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
    ) -> Iterator[Document]:
        coll = self._coll(collection)
        left = limit
        for page in self._pages(coll, dict(filter or {}), f"reading {collection}"):
            for doc in page[:left]:
                yield dict(doc)
            if left is not None:
                left -= len(page)
                if left <= 0:
                    return

    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        coll = self._coll(collection)
        query = dict(filter or {})
        try:
            return self._call(
                f"counting {collection}",
                lambda: coll.count_documents(query, upper_bound=COUNT_LIMIT),
            )
        except StoreError as exc:
            if not isinstance(exc.__cause__, TooManyDocumentsToCountException):
                raise
        # Past the Data API's exact-count limit: count by streaming the ids.
        return sum(1 for _ in self._ids(collection, query))

    def _ids(self, collection: str, query: dict[str, Any]) -> Iterator[str]:
        pages = self._pages(self._coll(collection), query, f"counting {collection}", ids_only=True)
        for page in pages:
            yield from (d["_id"] for d in page)

    def _pages(
        self,
        coll: Collection[Document],
        query: dict[str, Any],
        doing: str,
        *,
        ids_only: bool = False,
    ) -> Iterator[list[Document]]:
        """Page by page (the Data API's page size), each page retried on its own, so a long read
        survives a transient failure without starting over."""
        projection = {"_id": True} if ids_only else None
        state: str | None = None
        while True:
            page = self._call(doing, partial(_fetch_page, coll, query, projection, state))
            yield page.results
            state = page.next_page_state
            if not state:
                return

    def ping(self, *, timeout_s: float) -> None:
        """One ``findOne`` by ``_id`` with a ``timeout_s`` timeout, not retried."""
        coll = self._coll(EVALUATION_RESULTS)
        try:
            coll.find_one(
                {"_id": PING_ID}, projection={"_id": True}, timeout_ms=int(timeout_s * 1000)
            )
        except (DataAPIException, httpx.HTTPError) as exc:
            if is_transient(exc) and not isinstance(exc, httpx.ConnectError):
                text = f"Astra did not answer within {timeout_s:g} s ({type(exc).__name__})"
                raise StoreError(text) from exc
            raise self._explain(exc, "checking that it answers") from exc

    def close(self) -> None:
        """Nothing to release: astrapy opens connections per request."""
