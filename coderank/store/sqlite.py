"""The embedded store: one SQLite file (WAL), one table per collection, JSON documents."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from coderank.errors import StoreError
from coderank.store.base import COLLECTIONS, INDEXED_FIELDS, Document

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PAGE = 1000


def _collection(name: str) -> str:
    if name not in COLLECTIONS:
        raise StoreError(f"unknown collection {name!r}: expected one of {', '.join(COLLECTIONS)}")
    return name


_RANGES = {"$gte": ">=", "$lt": "<"}


def _where(collection: str, filter: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
    """SQL for a ``filter``: equality, or a ``{"$gte": a, "$lt": b}`` range. Only ``_id`` and the
    indexed fields may be filtered on, as in Astra, so a query that works here works there too."""
    if not filter:
        return "", []
    clauses, params = [], []
    for key, value in filter.items():
        if key == "_id":
            column = "id"
        elif key in INDEXED_FIELDS[collection] and _FIELD.match(key):
            column = f"json_extract(doc, '$.{key}')"
        else:
            raise StoreError(
                f"cannot filter {collection} on {key!r}: filterable fields are _id, "
                + ", ".join(INDEXED_FIELDS[collection])
            )
        if isinstance(value, Mapping):
            if not value or set(value) - set(_RANGES):
                raise StoreError(f"cannot filter {collection} on {key!r}: {dict(value)!r}")
            for op, bound in value.items():
                clauses.append(f"{column} {_RANGES[op]} ?")
                params.append(bound)
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND " + " AND ".join(clauses), params


class _Connection:
    """A thread's connection, closed when the thread ends (its thread-local value is dropped)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def __del__(self) -> None:
        self.close()


class SQLiteStore:
    """A :class:`~coderank.store.base.Store` in one SQLite file, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Connections of live threads only: each closes when its thread ends (no leak from the
        # short-lived threads LangGraph runs nodes in), the rest on close().
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._lock = threading.Lock()
        with self._conn() as conn:
            for name in COLLECTIONS:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} "
                    "(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
                    " doc TEXT NOT NULL)"
                )
                for f in INDEXED_FIELDS[name]:
                    conn.execute(
                        f"CREATE INDEX IF NOT EXISTS {name}_{f} "
                        f"ON {name} (json_extract(doc, '$.{f}'))"
                    )

    def _conn(self) -> sqlite3.Connection:
        held: _Connection | None = getattr(self._local, "held", None)
        if held is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the SQLite store at {self.path}: {exc}") from exc
            held = self._local.held = _Connection(conn)
            with self._lock:
                self._connections.add(held)
        return held.conn

    def upsert(self, collection: str, doc: Mapping[str, Any]) -> None:
        self.upsert_many(collection, [doc])

    def upsert_many(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> None:
        table = _collection(collection)
        rows = []
        for doc in docs:
            if not isinstance(doc.get("_id"), str) or not doc["_id"]:
                raise StoreError(f"a document for {collection} has no _id")
            rows.append((doc["_id"], json.dumps(doc, sort_keys=True, default=str)))
        try:
            with self._conn() as conn:
                # Replacing in place keeps the first write's position (seq) for streaming order.
                conn.executemany(
                    f"INSERT INTO {table} (id, doc) VALUES (?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                    rows,
                )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {collection}: {exc}") from exc

    def _select(self, doing: str, sql: str, params: Sequence[Any]) -> list[Any]:
        """The rows of one read; an SQLite error (a table dropped, a file that is no longer a
        database) is a StoreError saying what was being read."""
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {doing}: {exc}") from exc

    def get(self, collection: str, doc_id: str) -> Document | None:
        table = _collection(collection)
        rows = self._select(
            f"read {collection}", f"SELECT doc FROM {table} WHERE id = ?", (doc_id,)
        )
        return json.loads(rows[0][0]) if rows else None

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
    ) -> Iterator[Document]:
        table = _collection(collection)
        where, params = _where(table, filter)
        last, left = 0, limit
        while left is None or left > 0:
            page = _PAGE if left is None else min(_PAGE, left)
            rows = self._select(
                f"read {collection}",
                f"SELECT seq, doc FROM {table} WHERE seq > ?{where} ORDER BY seq LIMIT ?",
                [last, *params, page],
            )
            for _, doc in rows:
                yield json.loads(doc)
            if len(rows) < page:
                return
            last = rows[-1][0]
            if left is not None:
                left -= len(rows)

    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        table = _collection(collection)
        where, params = _where(table, filter)
        rows = self._select(
            f"count {collection}", f"SELECT COUNT(*) FROM {table} WHERE 1=1{where}", params
        )
        return int(rows[0][0])

    def ping(self, *, timeout_s: float) -> None:
        """A ``SELECT 1`` on this thread's connection (a local file: no wait to bound)."""
        self._select("reach the SQLite store", "SELECT 1", ())

    def close(self) -> None:
        with self._lock:
            for held in list(self._connections):
                held.close()
            self._connections = weakref.WeakSet()
        self._local = threading.local()
