"""Replicas on several machines, coordinated by PostgreSQL (``DATABASE_URL``): the only module
that imports psycopg.

One connection pool (``autocommit``, ``dict_row``, ``prepare_threshold=None`` so a PgBouncer in
front works, in *session* mode: the advisory locks belong to a server session) serves the
LangGraph checkpoints and, from a second small pool, the per-comparison advisory locks (a lock
waits on its own connection, so waiting never starves the checkpoints).
Leases and pending generations are rows timed by the database's clock, never a machine's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from coderank.coordination.base import Holder
from coderank.errors import CheckpointMovedError, CoordinationError
from coderank.graph.checkpoint import ProcessLocks
from coderank.models import GenerationRequest

log = logging.getLogger(__name__)

# The fencing check: a checkpoint is refused (SQLSTATE CR001) when its parent is no longer the
# newest of its thread, or when it would sort before its parent (a clock behind), so a resume that
# raced another is retried, never forked.
FENCE_SQL = """
CREATE OR REPLACE FUNCTION coderank_fence() RETURNS trigger AS $$
BEGIN
  IF NEW.parent_checkpoint_id IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('coderank-fence:' || NEW.thread_id, 0));
    IF NEW.checkpoint_id <= NEW.parent_checkpoint_id OR EXISTS (
      SELECT 1 FROM checkpoints
      WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
        AND checkpoint_id > NEW.parent_checkpoint_id AND checkpoint_id <> NEW.checkpoint_id
    ) THEN
      RAISE EXCEPTION 'coderank: thread % moved on from checkpoint %',
        NEW.thread_id, NEW.parent_checkpoint_id USING ERRCODE = 'CR001';
    END IF;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS coderank_fence ON checkpoints;
CREATE TRIGGER coderank_fence BEFORE INSERT ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION coderank_fence();
"""
FENCE_SQLSTATE = "CR001"

TABLES_SQL = """
CREATE TABLE IF NOT EXISTS coderank_claims (key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS coderank_leases (
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, holder TEXT NOT NULL, since TEXT NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS coderank_pending (
  comparison_id TEXT PRIMARY KEY, request JSONB NOT NULL, owner TEXT NOT NULL,
  lease_until DOUBLE PRECISION NOT NULL, at DOUBLE PRECISION NOT NULL);
"""
_NOW = "extract(epoch from clock_timestamp())"
SETUP_LOCK = 7_310_001  # serialises the set-up of several replicas starting at once
SETUP_WAIT_S = 120.0
# A pool retries a lost connection with a doubling back-off for at most this long, then starts
# over at the next request: once PostgreSQL is back, the bot is too within seconds, not minutes.
RECONNECT_S = 5.0
KEEP_CLAIMS_S = 24 * 3600


def _connect_kwargs() -> dict[str, Any]:
    return {"autocommit": True, "row_factory": dict_row, "prepare_threshold": None}


def redacted(url: str) -> str:
    """``url`` without its password (``user:password@`` or ``?password=``), for messages."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        user, _, host = rest.rpartition("@")
        rest = f"{user.split(':', 1)[0]}@{host}"
    if "?" in rest:
        path, _, query = rest.partition("?")
        kept = [p for p in query.split("&") if p.split("=", 1)[0].lower() != "password"]
        rest = path + (f"?{'&'.join(kept)}" if kept else "")
    return f"{scheme}://{rest}"


def _try_lock(conn: psycopg.Connection[dict[str, Any]], key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (key,)).fetchone()
    return bool(row and row["ok"])


class Postgres:
    """The pools, the database clock and the set-up of CodeRank's tables."""

    def __init__(self, url: str, *, size: int = 16, lock_size: int = 16) -> None:
        self.url = url
        # Checked before each use: after a PostgreSQL restart, pooled connections are dead.
        check = ConnectionPool.check_connection
        try:
            self.pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
                url,
                kwargs=_connect_kwargs(),
                min_size=1,
                max_size=size,
                open=True,
                timeout=10,
                check=check,
                reconnect_timeout=RECONNECT_S,
            )
            self.pool.wait(timeout=10)  # closes the pool if it times out
        except (psycopg.Error, PoolTimeout) as exc:
            raise CoordinationError(
                f"cannot reach PostgreSQL at {redacted(url)} (DATABASE_URL): {exc}"
            ) from None
        # Opened once PostgreSQL answered: its threads would retry connecting for minutes.
        self.lock_pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            url,
            kwargs=_connect_kwargs(),
            min_size=1,
            max_size=lock_size,
            open=True,
            timeout=30,
            check=check,
            reconnect_timeout=RECONNECT_S,
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """A pooled connection; a database error becomes :class:`CoordinationError`."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise CoordinationError(f"PostgreSQL: {type(exc).__name__}: {exc}".strip()) from exc

    def now(self) -> float:
        """The database's clock, in seconds since the epoch: every replica's leases agree."""
        with self.connection() as conn:
            row = conn.execute(f"SELECT {_NOW} AS now").fetchone()
        assert row is not None
        return float(row["now"])

    def ping(self, *, timeout_s: float) -> None:
        """``SELECT 1`` on a pooled connection, waiting at most ``timeout_s`` for one.

        Raises:
            CoordinationError: naming the error, never the URL or its password.
        """
        try:
            with self.pool.connection(timeout=timeout_s) as conn:
                conn.execute("SELECT 1")
        except (psycopg.Error, PoolTimeout) as exc:
            raise CoordinationError(
                f"PostgreSQL did not answer within {timeout_s:g} s ({type(exc).__name__})"
            ) from exc

    def setup(self, saver: Any) -> None:
        """Create the checkpoint tables (LangGraph's migrations), the fencing trigger and
        CodeRank's tables, one replica at a time."""
        with self.lock_pool.connection() as conn:
            # Polled, never waited on in a statement: LangGraph's migrations include CREATE INDEX
            # CONCURRENTLY, which waits for every open transaction, so a replica blocked inside
            # pg_advisory_lock() would deadlock with the one running them.
            deadline = time.monotonic() + SETUP_WAIT_S
            while not _try_lock(conn, SETUP_LOCK):
                if time.monotonic() > deadline:
                    raise CoordinationError(
                        f"PostgreSQL set-up: another replica held the set-up lock for more than "
                        f"{SETUP_WAIT_S:g} s"
                    )
                time.sleep(0.2)
            try:
                saver.setup()
                conn.execute(FENCE_SQL)
                conn.execute(TABLES_SQL)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))

    def close(self) -> None:
        self.lock_pool.close()
        self.pool.close()


@contextlib.contextmanager
def _saver_errors() -> Iterator[None]:
    """The checkpointer's database errors as CodeRank's: the fence's, or unreachable."""
    try:
        yield
    except psycopg.Error as exc:
        if getattr(exc, "sqlstate", None) == FENCE_SQLSTATE:
            raise CheckpointMovedError(str(exc).strip()) from None
        raise CoordinationError(f"PostgreSQL: {type(exc).__name__}") from exc


def fenced_saver(db: Postgres) -> Any:
    """LangGraph's PostgresSaver over the pool; a checkpoint the fence refuses raises
    :class:`CheckpointMovedError` (the caller reads the thread again and retries)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    class FencedPostgresSaver(PostgresSaver):
        def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            with _saver_errors():
                return super().put(config, checkpoint, metadata, new_versions)

        # The same parameters as PostgresSaver's: LangGraph reads the signature for task_path.
        def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
            with _saver_errors():
                super().put_writes(config, writes, task_id, task_path)

        def get_tuple(self, config: Any) -> Any:
            with _saver_errors():  # reading a comparison (a results button) while unreachable
                return super().get_tuple(config)

    return FencedPostgresSaver(db.pool)


class AdvisoryLocks:
    """One lock per comparison across every replica: a PostgreSQL session advisory lock, taken
    on a connection of the lock pool and held for the resume; a ``threading.Lock`` first, so one
    process waits on one connection per comparison. A replica that dies drops its locks."""

    def __init__(self, db: Postgres) -> None:
        self._db = db
        self._in_process = ProcessLocks()

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._in_process.of(key):
            try:
                with self._db.lock_pool.connection() as conn:
                    conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
                    try:
                        yield
                    finally:
                        conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
            except psycopg.Error as exc:
                raise CoordinationError(
                    f"PostgreSQL is unreachable ({type(exc).__name__}): try again"
                ) from exc

    def close(self) -> None:
        """Nothing to release: the locks live on pooled connections."""


class SharedClaims:
    """Which adapter requests were handled, across replicas: a Slack retry delivered to another
    replica claims nothing (``INSERT ... ON CONFLICT DO NOTHING``)."""

    def __init__(self, db: Postgres) -> None:
        self._db = db

    def claim(self, key: str) -> bool:
        with self._db.connection() as conn:
            conn.execute(f"DELETE FROM coderank_claims WHERE at < {_NOW} - %s", (KEEP_CLAIMS_S,))
            cursor = conn.execute(
                f"INSERT INTO coderank_claims (key, at) VALUES (%s, {_NOW}) "
                "ON CONFLICT (key) DO NOTHING",
                (key,),
            )
            return cursor.rowcount == 1

    def release(self, key: str) -> None:
        with self._db.connection() as conn:
            conn.execute("DELETE FROM coderank_claims WHERE key = %s", (key,))

    def close(self) -> None:
        """The pool is closed with the coordination."""


class SharedPending:
    """Generations not yet ended, as rows owned by a replica under a lease it renews.

    A replica takes over rows whose lease ran out (their owner died) with ``FOR UPDATE SKIP
    LOCKED``, so two replicas never take the same row and never a live replica's."""

    def __init__(self, db: Postgres, owner: str, *, lease_s: float = 30.0) -> None:
        self._db = db
        self.owner = owner
        self.lease_s = lease_s

    def add(self, request: GenerationRequest, *, at: float | None = None) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO coderank_pending (comparison_id, request, owner, lease_until, at) "
                f"VALUES (%s, %s, %s, {_NOW} + %s, coalesce(%s, {_NOW})) "
                "ON CONFLICT (comparison_id) DO UPDATE SET owner = EXCLUDED.owner, "
                "lease_until = EXCLUDED.lease_until",
                (request.comparison_id, json.dumps(asdict(request)), self.owner, self.lease_s, at),
            )

    def finish(self, comparison_id: str) -> None:
        with self._db.connection() as conn:
            conn.execute("DELETE FROM coderank_pending WHERE comparison_id = %s", (comparison_id,))

    def renew(self) -> int:
        """Extend the leases of this replica's rows; returns how many it holds."""
        with self._db.connection() as conn:
            cursor = conn.execute(
                f"UPDATE coderank_pending SET lease_until = {_NOW} + %s WHERE owner = %s",
                (self.lease_s, self.owner),
            )
            return cursor.rowcount

    def all(self) -> list[GenerationRequest]:
        """Take the rows that are this replica's (from before a restart) or whose owner's lease
        ran out, oldest first, and return them."""
        return self._take("owner = %s OR")

    def orphans(self) -> list[GenerationRequest]:
        """Take the rows of replicas whose lease ran out (not this replica's own)."""
        return self._take("owner <> %s AND")

    def _take(self, whose: str) -> list[GenerationRequest]:
        """Lease to this replica the rows matching ``whose`` (with this owner) and the lease
        test, skipping rows another replica is taking at the same moment; oldest first."""
        with self._db.connection() as conn, conn.transaction():
            rows = conn.execute(
                "UPDATE coderank_pending SET owner = %s, lease_until = "
                f"{_NOW} + %s WHERE comparison_id IN (SELECT comparison_id FROM coderank_pending "
                f"WHERE {whose} lease_until < {_NOW} ORDER BY at FOR UPDATE SKIP LOCKED) "
                "RETURNING request, at",
                (self.owner, self.lease_s, self.owner),
            ).fetchall()
        ordered = sorted(rows, key=lambda r: float(r["at"]))
        return [GenerationRequest.from_dict(r["request"]) for r in ordered]

    def close(self) -> None:
        """The pool is closed with the coordination."""


class SharedGate:
    """One fine-tune at a time across replicas: a lease row renewed while the fine-tune runs; if
    its replica dies, the lease runs out and another may start one."""

    def __init__(self, db: Postgres, owner: str, *, name: str = "finetune", ttl_s: float = 60.0):
        self._db = db
        self.owner = owner
        self.name = name
        self.ttl_s = ttl_s
        self._stop: threading.Event | None = None

    def try_enter(self, *, by: str, now: str) -> Holder | None:
        with self._db.connection() as conn, conn.transaction():
            row = conn.execute(
                "INSERT INTO coderank_leases (name, owner, holder, since, expires_at) "
                f"VALUES (%s, %s, %s, %s, {_NOW} + %s) ON CONFLICT (name) DO UPDATE SET "
                "owner = EXCLUDED.owner, holder = EXCLUDED.holder, since = EXCLUDED.since, "
                f"expires_at = EXCLUDED.expires_at WHERE coderank_leases.expires_at < {_NOW} "
                "RETURNING owner",
                (self.name, self.owner, by, now, self.ttl_s),
            ).fetchone()
            if row is None:
                held = conn.execute(
                    "SELECT holder, since FROM coderank_leases WHERE name = %s", (self.name,)
                ).fetchone()
                assert held is not None
                return Holder(by=str(held["holder"]), since=str(held["since"]))
        self._stop = threading.Event()
        threading.Thread(
            target=self._renew, args=(self._stop,), name="finetune-lease", daemon=True
        ).start()
        return None

    def _renew(self, stop: threading.Event) -> None:
        while not stop.wait(self.ttl_s / 3):
            try:
                with self._db.connection() as conn:
                    conn.execute(
                        f"UPDATE coderank_leases SET expires_at = {_NOW} + %s "
                        "WHERE name = %s AND owner = %s",
                        (self.ttl_s, self.name, self.owner),
                    )
            except CoordinationError as exc:
                log.warning("fine-tune lease not renewed: %s", exc)

    def leave(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None
        with self._db.connection() as conn:
            conn.execute(
                "DELETE FROM coderank_leases WHERE name = %s AND owner = %s",
                (self.name, self.owner),
            )


def wait_until_reachable(db: Postgres, *, timeout_s: float) -> bool:
    """Whether PostgreSQL answers within ``timeout_s`` (used by readiness checks)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            db.now()
            return True
        except CoordinationError:
            time.sleep(0.2)
    return False
