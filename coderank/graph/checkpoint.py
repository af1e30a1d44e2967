"""Durable LangGraph checkpointers and a lock that serialises resumes of one thread."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from coderank.errors import ConfigError

_LOCK_SLOTS = 1 << 20


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite checkpoint URL (a plain path or ``sqlite:///path``); else ``None``."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if "://" in url:
        return None
    return Path(url)


def open_checkpointer(url: str) -> BaseCheckpointSaver[str]:
    """A durable checkpointer for ``CHECKPOINT_URL``: SQLite (default) or PostgreSQL."""
    path = sqlite_path(url)
    if path is not None:
        return _sqlite_checkpointer(path)
    return _postgres_checkpointer(url)


def _sqlite_checkpointer(path: Path) -> BaseCheckpointSaver[str]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def _postgres_checkpointer(url: str) -> BaseCheckpointSaver[str]:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError as exc:
        raise ConfigError(
            "CHECKPOINT_URL=postgresql://... needs langgraph-checkpoint-postgres installed"
        ) from exc
    from psycopg import Connection
    from psycopg.rows import dict_row

    conn = Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    saver = PostgresSaver(conn)
    saver.setup()
    # An optional extra: where it is not installed, mypy sees PostgresSaver as Any.
    checkpointer: BaseCheckpointSaver[str] = saver
    return checkpointer


class ProcessLocks:
    """One ``threading.Lock`` per key within this process, dropped once nobody holds it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._guard = threading.Lock()

    def of(self, key: str) -> threading.Lock:
        """The lock of ``key`` (keep a reference while it is held)."""
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock


class ThreadLocks:
    """One lock per comparison: a ``threading.Lock`` within the process and, when a lock file is
    given, a POSIX byte-range lock on it across processes on this machine."""

    def __init__(self, lock_file: Path | None = None) -> None:
        self._in_process = ProcessLocks()
        self._fd: int | None = None
        if lock_file is not None:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._in_process.of(key):
            if self._fd is None:
                yield
                return
            slot = (
                int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) % _LOCK_SLOTS
            )
            fcntl.lockf(self._fd, fcntl.LOCK_EX, 1, slot)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, slot)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
