"""Which generations were asked for and have not ended, so a restart (or a crash) resumes them."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path

from coderank.errors import StoreError
from coderank.models import GenerationRequest


class PendingGenerations:
    """Requests in a small SQLite file in ``DATA_DIR``, shared by the processes of one machine.

    A request is added when it is asked for and finished when its comparison is ready or failed.
    ``legacy`` is the previous version's Slack ledger file, whose pending rows are taken over once.
    """

    def __init__(self, path: str | Path, *, legacy: Path | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS pending (comparison_id TEXT PRIMARY KEY, request TEXT"
                " NOT NULL, at REAL NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        if legacy is not None and legacy.exists():
            self._take_over(legacy)

    def _take_over(self, legacy: Path) -> None:
        """Move the pending rows of the previous version's Slack ledger (channel, ts) here."""
        with contextlib.closing(sqlite3.connect(legacy, timeout=30)) as old:
            try:
                rows = old.execute("SELECT comparison_id, request, at FROM pending").fetchall()
            except sqlite3.OperationalError:
                return  # no such table: nothing to take over
            for cid, text, at in rows:
                data = json.loads(text)
                request = GenerationRequest(
                    comparison_id=cid,
                    problem=data["problem"],
                    requester=data["requester"],
                    source="slack",
                    surface={"channel": data["channel"], "ts": data["ts"]},
                )
                self.add(request, at=at)
            with old:
                old.execute("DELETE FROM pending")

    def add(self, request: GenerationRequest, *, at: float | None = None) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO pending (comparison_id, request, at) VALUES (?, ?, ?)",
                (
                    request.comparison_id,
                    json.dumps(asdict(request)),
                    time.time() if at is None else at,
                ),
            )

    def finish(self, comparison_id: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM pending WHERE comparison_id = ?", (comparison_id,))

    def all(self) -> list[GenerationRequest]:
        """The requests whose generation never ended, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT request FROM pending ORDER BY at").fetchall()
        return [GenerationRequest.from_dict(json.loads(row[0])) for row in rows]

    def renew(self) -> int:
        """On one machine there is no lease to renew."""
        return 0

    def orphans(self) -> list[GenerationRequest]:
        """On one machine, a restart resumes everything (:meth:`all`); nothing is orphaned
        while processes run."""
        return []

    def close(self) -> None:
        self._conn.close()
