"""CodeRank's Prometheus metrics: the only module that imports ``prometheus_client``.

Each :class:`Metrics` owns its registry (never the process-wide default one), so several apps
in one process, and the tests, each count their own. The composition root makes one at start-up
and passes it to what counts (the graph nodes, ``Comparisons``, the fine-tune, the Slack client)
and to what serves it (``GET /metrics``).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from coderank.models import CLOSED_HOW

# Why a comparison failed: fewer than two answers, the embedded model went away, or an error
# (the store, the checkpointer, a bug) stopped the run.
TOO_FEW_ANSWERS, MODEL_UNAVAILABLE, ERROR = "too_few_answers", "model_unavailable", "error"
FAILURE_REASONS = (TOO_FEW_ANSWERS, MODEL_UNAVAILABLE, ERROR)
SANDBOX_OUTCOMES = ("passed", "failed", "no_checks", "error", "stopped", "syntax_error", "no_code")
FINETUNE_OUTCOMES = ("promoted", "kept", "failed")

# An agent's answer takes seconds to LLM_TIMEOUT_S (120 s by default) and one retry.
GENERATION_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 240.0)
SANDBOX_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
FINETUNE_BUCKETS = (60.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)


class Metrics:
    """The counters, gauges and histograms of one process, on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._started = Counter(
            "coderank_comparisons_started", "Comparisons that began generating.", registry=r
        )
        self._failed = Counter(
            "coderank_comparisons_failed",
            "Comparisons that ended failed, by reason.",
            ["reason"],
            registry=r,
        )
        self._closed = Counter(
            "coderank_comparisons_closed",
            "Comparisons whose voting closed, by how (requester, admin, quorum, deadline).",
            ["how"],
            registry=r,
        )
        self._generation = Histogram(
            "coderank_generation_seconds",
            "Seconds one agent took to answer (retries included), by agent.",
            ["agent"],
            buckets=GENERATION_BUCKETS,
            registry=r,
        )
        self._answers = Counter(
            "coderank_agent_answers",
            "Agent answers, by agent and outcome (ok, failed).",
            ["agent", "outcome"],
            registry=r,
        )
        self._votes = Counter(
            "coderank_votes", "Votes recorded (a changed vote counts).", registry=r
        )
        self._slack_errors = Counter(
            "coderank_slack_api_errors",
            "Slack Web API calls that failed, by method and error.",
            ["method", "error"],
            registry=r,
        )
        self._slack_429 = Counter(
            "coderank_slack_api_rate_limited",
            "HTTP 429 answers from the Slack Web API (each is waited out and retried), by method.",
            ["method"],
            registry=r,
        )
        self._queued = Gauge(
            "coderank_generation_queue_depth",
            "Generations waiting for a free worker.",
            registry=r,
        )
        self._running = Gauge(
            "coderank_generations_running", "Generations running now.", registry=r
        )
        self._sandbox = Counter(
            "coderank_sandbox_runs",
            "Answers run in the sandbox, by outcome.",
            ["outcome"],
            registry=r,
        )
        self._sandbox_seconds = Histogram(
            "coderank_sandbox_seconds",
            "Seconds one answer's sandbox run took.",
            buckets=SANDBOX_BUCKETS,
            registry=r,
        )
        self._finetunes = Counter(
            "coderank_finetunes",
            "Fine-tunes of the reranker, by outcome (promoted, kept, failed).",
            ["outcome"],
            registry=r,
        )
        self._finetune_seconds = Histogram(
            "coderank_finetune_seconds",
            "Seconds one fine-tune took, export to promotion.",
            buckets=FINETUNE_BUCKETS,
            registry=r,
        )
        # Every known label value from the start, at 0: a rate over a series that does not
        # exist yet is no rate, and an alert on it never fires.
        for reason in FAILURE_REASONS:
            self._failed.labels(reason)
        for how in CLOSED_HOW:
            self._closed.labels(how)
        for outcome in SANDBOX_OUTCOMES:
            self._sandbox.labels(outcome)
        for outcome in FINETUNE_OUTCOMES:
            self._finetunes.labels(outcome)

    # --- what the domain counts ------------------------------------------------------------

    def comparison_started(self) -> None:
        self._started.inc()

    def comparison_failed(self, reason: str) -> None:
        self._failed.labels(reason).inc()

    def comparison_closed(self, how: str) -> None:
        self._closed.labels(how).inc()

    def answered(self, agent: str, *, seconds: float, ok: bool) -> None:
        self._generation.labels(agent).observe(seconds)
        self._answers.labels(agent, "ok" if ok else "failed").inc()

    def voted(self) -> None:
        self._votes.inc()

    def sandbox_ran(self, outcome: str, *, seconds: float) -> None:
        self._sandbox.labels(outcome).inc()
        self._sandbox_seconds.observe(seconds)

    def finetune_ended(self, outcome: str, *, seconds: float) -> None:
        self._finetunes.labels(outcome).inc()
        self._finetune_seconds.observe(seconds)

    # --- what the adapter counts -----------------------------------------------------------

    def slack_error(self, method: str, error: str) -> None:
        self._slack_errors.labels(method, error).inc()

    def slack_rate_limited(self, method: str) -> None:
        self._slack_429.labels(method).inc()

    def watch_generations(self, *, queued: Callable[[], int], running: Callable[[], int]) -> None:
        """Read the generation queue at each scrape (``queued``, ``running``: counts now)."""
        self._queued.set_function(lambda: float(queued()))
        self._running.set_function(lambda: float(running()))

    # --- serving ------------------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """``(body, content type)`` of the Prometheus text format."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
