"""Which Slack requests were already handled, so a retried request does nothing twice; and which
comparisons were asked for but not yet generated, so a restart resumes them."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

KEEP_S = 24 * 3600


class RequestLedger:
    """Claims on request keys in a small SQLite file, shared by every process on the machine.

    A key is claimed once: the first caller gets ``True``; later callers (Slack retries, double
    clicks) get ``False``. A handler that fails releases its claim so a retry can run.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, at REAL NOT NULL)"
        )
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS pending (comparison_id TEXT PRIMARY KEY, request TEXT NOT"
            " NULL, at REAL NOT NULL)"
        )
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM claims WHERE at < ?", (now - KEEP_S,))
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO claims (key, at) VALUES (?, ?)", (key, now)
            )
            return cursor.rowcount == 1

    def release(self, key: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM claims WHERE key = ?", (key,))

    def add_pending(self, comparison_id: str, request: dict[str, str]) -> None:
        """A comparison was asked for (``request``: what is needed to generate it)."""
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO pending (comparison_id, request, at) VALUES (?, ?, ?)",
                (comparison_id, json.dumps(request), time.time()),
            )

    def finish(self, comparison_id: str) -> None:
        """Its generation ended (with a vote message or a failure shown)."""
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM pending WHERE comparison_id = ?", (comparison_id,))

    def pending(self) -> list[tuple[str, dict[str, str]]]:
        """Comparisons asked for whose generation never ended, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT comparison_id, request FROM pending ORDER BY at"
            ).fetchall()
        return [(cid, json.loads(request)) for cid, request in rows]

    def close(self) -> None:
        self._conn.close()
