"""What CodeRank's processes share, chosen by ``DATABASE_URL``: on one machine, SQLite files and
file locks in ``DATA_DIR``; across machines, PostgreSQL for the checkpoints, the locks, the
request ledger, the pending generations and the single-flight leases."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from coderank.config import Settings
from coderank.coordination.base import Claims, Gate, Holder, Locks, Pending

__all__ = ["Claims", "Coordination", "Gate", "Holder", "Locks", "Pending", "open_coordination"]


@dataclass
class Coordination:
    """The shared pieces of one process, built by :func:`open_coordination`."""

    checkpointer: BaseCheckpointSaver[str]
    locks: Locks
    claims: Callable[[], Claims]  # opened by the adapter that takes requests (Slack)
    pending: Callable[[], Pending]
    gate: Callable[[], Gate]
    clock: Callable[[], float]  # the clock leases are timed by
    replica: str
    shared: bool  # across machines (PostgreSQL)
    # One cheap call to PostgreSQL within a timeout in seconds (readiness); None on one machine.
    ping: Callable[[float], None] | None = None
    _close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self._close):
            close()
        self._close.clear()


def open_coordination(settings: Settings) -> Coordination:
    """The coordination ``settings`` ask for (raises ``CoordinationError`` if PostgreSQL is
    unreachable, naming ``DATABASE_URL`` without its password)."""
    if settings.database_url:
        return _postgres(settings, settings.database_url)
    return _local(settings)


def _local(settings: Settings) -> Coordination:
    from coderank.coordination.local import SQLiteClaims
    from coderank.finetune.gate import FineTuneGate
    from coderank.generation.pending import PendingGenerations
    from coderank.graph.checkpoint import ThreadLocks, open_checkpointer, sqlite_path

    data = Path(settings.data_dir)
    checkpointer = open_checkpointer(settings.checkpoint_url)
    path = sqlite_path(settings.checkpoint_url)
    locks = ThreadLocks(Path(f"{path}.locks") if path else None)
    conn: Any = getattr(checkpointer, "conn", None)
    coordination = Coordination(
        checkpointer=checkpointer,
        locks=locks,
        claims=lambda: SQLiteClaims(data / "slack_requests.db"),
        pending=lambda: PendingGenerations(
            data / "generations.db", legacy=data / "slack_requests.db"
        ),
        gate=lambda: FineTuneGate(data / "finetune.lock"),
        clock=time.time,
        replica=settings.replica_id,
        shared=False,
    )
    coordination._close.append(locks.close)
    if conn is not None:
        coordination._close.append(conn.close)
    return coordination


def _postgres(settings: Settings, url: str) -> Coordination:
    from coderank.coordination.postgres import (
        AdvisoryLocks,
        Postgres,
        SharedClaims,
        SharedGate,
        SharedPending,
        fenced_saver,
    )

    db = Postgres(url)
    saver = fenced_saver(db)
    db.setup(saver)
    coordination = Coordination(
        checkpointer=saver,
        locks=AdvisoryLocks(db),
        claims=lambda: SharedClaims(db),
        pending=lambda: SharedPending(db, settings.replica_id, lease_s=settings.replica_lease_s),
        gate=lambda: SharedGate(db, settings.replica_id),
        clock=db.now,
        replica=settings.replica_id,
        shared=True,
        ping=lambda timeout_s: db.ping(timeout_s=timeout_s),
    )
    coordination._close.append(db.close)
    return coordination
