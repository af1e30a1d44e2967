"""One generation from request to vote: queued, run on the pool, its progress and its end told
to the adapter's :class:`GenerationListener`, and its pending record kept until it ends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from coderank.agents.prompts import AGENTS
from coderank.comparisons import Comparisons
from coderank.errors import CoderankError, GenerationError
from coderank.logs import comparison_context
from coderank.models import Comparison, GenerationRequest

if TYPE_CHECKING:
    from coderank.coordination.base import Pending
    from coderank.generation.queue import GenerationPool

log = logging.getLogger(__name__)


class GenerationListener(Protocol):
    """What an adapter shows of a generation (Slack: the comparison's channel message)."""

    def queued(self, request: GenerationRequest, ahead: int) -> None:
        """It waits for ``ahead`` generations before it."""

    def progress(self, request: GenerationRequest, finished: Mapping[str, bool]) -> None:
        """``finished``: agent -> answered (True) or failed (False), for those done so far."""

    def ready(self, request: GenerationRequest, comparison: Comparison) -> None:
        """The pair is chosen and voting is open."""

    def failed(self, request: GenerationRequest, error: str) -> None:
        """No comparison could be made, and why."""

    def paused(self, request: GenerationRequest) -> None:
        """The process stops before it ran; it is generated at the next start."""

    def resumed(self, request: GenerationRequest) -> None:
        """It was asked for before a restart and is generated now."""


class Generations:
    """Queues generations on ``pool``, records them in ``pending`` until they end, and tells
    ``listener`` what happens."""

    def __init__(
        self,
        comparisons: Comparisons,
        pending: Pending,
        pool: GenerationPool,
        listener: GenerationListener,
    ) -> None:
        self.comparisons = comparisons
        self.pending = pending
        self.pool = pool
        self.listener = listener
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def submit(self, request: GenerationRequest) -> int:
        """Record and queue ``request``; returns its place in the queue (0: it starts now). If
        the process stops before its turn, the listener hears ``paused`` and the next start
        generates it (:meth:`resume_pending`)."""
        self.pending.add(request)
        return self._queue(request)

    def _queue(self, request: GenerationRequest) -> int:
        try:
            _, ahead = self.pool.submit(
                lambda: self.run(request), on_cancel=lambda: self.listener.paused(request)
            )
        except RuntimeError:  # shutting down: it stays pending for the restart
            self.listener.paused(request)
            return 0
        if ahead:
            self.listener.queued(request, ahead)
        return ahead

    def resume_pending(self) -> int:
        """At start-up: queue the generations asked for before a restart (or a crash) that never
        ended; a run cut off part-way continues from its checkpoint. Returns how many."""
        pending = self.pending.all()
        for request in pending:
            log.info("resuming comparison %s after a restart", request.comparison_id)
            self.listener.resumed(request)
            self._queue(request)
        return len(pending)

    def run(self, request: GenerationRequest) -> None:
        """Generate one comparison (on a pool worker), telling the listener as it goes."""
        with comparison_context(request.comparison_id):
            self._run(request)

    def _run(self, request: GenerationRequest) -> None:
        finished: dict[str, bool] = {}

        def on_progress(node: str, update: Mapping[str, Any]) -> None:
            if node in AGENTS:
                finished[node] = update["answers"][0]["error"] is None
                self.listener.progress(request, dict(finished))

        try:
            comparison = self.comparisons.start(
                request.problem,
                requester=request.requester,
                source=request.source,
                comparison_id=request.comparison_id,
                surface=request.surface,
                on_progress=on_progress,
            )
        except CoderankError as exc:  # too few answers, the model or the store failed
            if not isinstance(exc, GenerationError) or exc.__cause__ is not None:
                log.error("comparison %s failed: %s", request.comparison_id, exc)
            self.listener.failed(request, str(exc))
        except Exception as exc:  # never leave the adapter on "generating" with nothing said
            log.exception("comparison %s failed", request.comparison_id)
            self.listener.failed(request, f"an internal error ({type(exc).__name__})")
        else:
            self.listener.ready(request, comparison)
        finally:
            self.pending.finish(request.comparison_id)

    def keep(self, *, every_s: float) -> None:
        """Every ``every_s``: renew this process's hold on its pending generations and take over
        those of processes that died (replicas sharing PostgreSQL; nothing on one machine)."""

        def run() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.pending.renew()
                    for request in self.pending.orphans():
                        log.warning(
                            "taking over comparison %s from a replica that stopped",
                            request.comparison_id,
                            extra={"comparison_id": request.comparison_id},
                        )
                        self.listener.resumed(request)
                        self._queue(request)
                except CoderankError as exc:
                    log.warning("pending generations not renewed: %s", exc)

        self._keeper = threading.Thread(target=run, name="generations-keeper", daemon=True)
        self._keeper.start()

    def shutdown(self) -> None:
        """Let running generations finish; queued ones are told ``paused``."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join()
        self.pool.shutdown(wait=True)
