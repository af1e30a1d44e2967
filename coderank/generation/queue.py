"""A bounded pool for generations: at most ``workers`` at once, the rest queued in order."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class GenerationPool:
    """At most ``workers`` generations at once; more are queued, never dropped while the process
    runs. At shutdown the running ones finish and the queued ones get ``on_cancel`` (to tell the
    requester), not silence."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="generation")
        self._lock = threading.Lock()
        self._submitted = 0
        self._cancel: dict[Future[Any], Callable[[], None]] = {}

    @property
    def running(self) -> int:
        """Jobs running now."""
        with self._lock:
            return min(self._submitted, self.workers)

    @property
    def waiting(self) -> int:
        """Jobs queued behind the running ones."""
        with self._lock:
            return max(0, self._submitted - self.workers)

    def submit(
        self, job: Callable[[], T], *, on_cancel: Callable[[], None] | None = None
    ) -> tuple[Future[T], int]:
        """Run ``job``; returns its future and its place in the queue (0: it starts now)."""

        submitted: list[Future[T]] = []

        def run() -> T:
            try:
                return job()
            finally:
                with self._lock:
                    self._submitted -= 1
                    self._cancel.pop(submitted[0], None)

        with self._lock:  # held until the future is known, so run() finds it
            ahead = max(0, self._submitted - self.workers + 1)
            self._submitted += 1
            future = self._executor.submit(run)
            submitted.append(future)
            if on_cancel is not None:
                self._cancel[future] = on_cancel
        return future, ahead

    def shutdown(self, *, wait: bool = True) -> None:
        """Let running jobs finish; cancel the queued ones and call their ``on_cancel``."""
        with self._lock:
            waiting = dict(self._cancel)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for future, on_cancel in waiting.items():
            if future.cancelled():
                try:
                    on_cancel()
                except Exception:  # one failed notice must not stop the others
                    log.exception("could not tell a queued request it was cancelled")
        if wait:
            self._executor.shutdown(wait=True)
