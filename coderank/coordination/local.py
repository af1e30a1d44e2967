"""The coordination of processes on one machine that is not elsewhere already: which adapter
requests were handled (a Slack retry does nothing twice), in a SQLite file in ``DATA_DIR``.
(The per-comparison file locks are ``graph.checkpoint.ThreadLocks``, pending generations
``generation.pending``, the fine-tune gate ``finetune.gate``.)"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

KEEP_S = 24 * 3600


class SQLiteClaims:
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

    def close(self) -> None:
        self._conn.close()
