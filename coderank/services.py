"""Wiring shared by the entry points: settings in, a ready ``Comparisons`` and store out."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from langgraph.checkpoint.base import BaseCheckpointSaver

from coderank.comparisons import Comparisons
from coderank.config import Settings
from coderank.coordination import Coordination, open_coordination
from coderank.errors import ModelError
from coderank.execution import Executor
from coderank.graph.build import build_graph
from coderank.graph.nodes import AnswersProblems, GraphServices
from coderank.metrics import Metrics
from coderank.models import Answer
from coderank.readiness import READY_TIMEOUT_S, Readiness, check_readiness
from coderank.reranker.base import Reranker
from coderank.reranker.registry import reranker_source
from coderank.store import Store, open_store


class _LazyAgents(Mapping[str, AnswersProblems]):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._agents: Mapping[str, AnswersProblems] | None = None
        self._tester: AnswersProblems | None = None
        self._lock = threading.Lock()

    def _load(self) -> Mapping[str, AnswersProblems]:
        with self._lock:
            if self._agents is None:
                from coderank.agents.agents import build_agents, build_tester
                from coderank.agents.llm import build_chat_model

                chat_model = build_chat_model(self._settings)
                timeout_s, redactor = self._settings.llm_timeout_s, self._settings.redactor()
                self._agents = dict(
                    build_agents(chat_model, timeout_s=timeout_s, redactor=redactor)
                )
                self._tester = build_tester(chat_model, timeout_s=timeout_s, redactor=redactor)
            return self._agents

    def tester(self) -> AnswersProblems:
        """The Tester, over the same chat model as the agents."""
        self._load()
        assert self._tester is not None
        return self._tester

    def __getitem__(self, name: str) -> AnswersProblems:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


@dataclass
class _LazyTester:
    agents: _LazyAgents

    def answer(self, problem: str) -> Answer:
        return self.agents.tester().answer(problem)


class LiveReranker:
    """The reranker in use, looked up at every scoring (see ``coderank.reranker.registry``), so a
    promoted fine-tune is picked up without restarting. Each model loads once, on first use.

    ``model_id`` after ``score`` in the same thread names the model that made those scores, even
    if another thread switched models in between.
    """

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self._settings = settings
        self._store = store
        self._used = threading.local()

    @property
    def model_id(self) -> str:
        used: str | None = getattr(self._used, "model_id", None)
        if used is not None:
            return used
        # Known without loading the model (LangGraph inspects node closures at compile time).
        return reranker_source(self._settings, self._store)[1]

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        from coderank.reranker.cross_encoder import load_reranker

        reranker = load_reranker(self._settings, self._store)
        self._used.model_id = reranker.model_id
        return reranker.score(problem, answers)


@dataclass
class Services:
    settings: Settings
    store: Store
    comparisons: Comparisons
    coordination: Coordination
    # The agents run on the embedded model (not fakes, not a hosted endpoint).
    local_model: bool = False
    # Runs each answer's code in the sandbox; its status says whether it is on and why not.
    executor: Executor = field(default_factory=lambda: Executor(enabled=False))
    # What this process counts, on a registry of its own (GET /metrics serves it).
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def checkpointer(self) -> BaseCheckpointSaver[str]:
        return self.coordination.checkpointer

    def check_model(self) -> None:
        """Start the embedded model's process and run its self-check now, so a model that cannot
        load or crashes is reported before anything is asked or stored.

        Raises:
            ModelUnavailableError: naming the cause and the fix.
        """
        if self.local_model:
            from coderank.agents.llm import local_model

            local_model(self.settings).ensure_ready()

    def model_health(self) -> tuple[bool, str]:
        """(healthy, detail) of the models: the embedded chat model (a hosted one is not
        checked) and the reranker in use (a promoted one this machine cannot see is not)."""
        try:
            reranker_source(self.settings, self.store)
        except ModelError as exc:
            return False, f"reranker: {exc}"
        if not self.local_model:
            return True, ""
        from coderank.agents.llm import local_model

        try:
            health = local_model(self.settings).health()
        except ModelError as exc:  # a packaged model that cannot be assembled
            return False, f"model failed: {exc}"
        if health.state == "ready":
            return True, ""
        return health.ok, f"model {health.state}" + (f": {health.detail}" if health.detail else "")

    def readiness(self, *, timeout_s: float = READY_TIMEOUT_S) -> Readiness:
        """Whether the models, the store and PostgreSQL (when configured) answer now."""
        return check_readiness(self, timeout_s=timeout_s)

    def migrate_if_needed(self, out: TextIO) -> None:
        """On the first start over a store of the previous version, write its comparisons
        collection from the checkpoints (what ``python -m coderank store migrate`` does)."""
        from coderank.migrate import migrate, needs_migration

        if not needs_migration(self.store):
            return
        print("migrating the store: writing one comparison document per comparison…", file=out)
        count = migrate(self.store, self.comparisons)
        print(f"migrated: {count.summary()}", file=out)

    def close(self) -> None:
        self.store.close()
        self.coordination.close()


def build_services(
    settings: Settings,
    *,
    agents: Mapping[str, AnswersProblems] | None = None,
    tester: AnswersProblems | None = None,
    reranker: Reranker | None = None,
    store: Store | None = None,
    rng: random.Random | None = None,
    model_name: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    metrics: Metrics | None = None,
) -> Services:
    """Build the store, graph and ``Comparisons`` from ``settings``.

    Unless given (tests pass fakes), the agents and the reranker are loaded from settings the first
    time a node needs them, so a process that only takes votes never loads a model. The Tester
    comes with the agents loaded from settings (unless ``TESTER=off``); given agents come with the
    ``tester`` given, or none. ``metrics`` (a new set unless given) counts what the graph does.
    """
    metrics = metrics or Metrics()
    local_model = agents is None and settings.llm_backend == "local"
    if agents is None:
        from coderank.agents.llm import model_name as llm_name

        lazy = _LazyAgents(settings)
        agents = lazy
        if settings.tester == "on":
            tester = _LazyTester(lazy)
        model_name = model_name or llm_name(settings)
    store = store or open_store(settings)
    if reranker is None:
        reranker = LiveReranker(settings, store)
    coordination = open_coordination(settings)
    executor = Executor(enabled=settings.execution != "off")
    graph_services = GraphServices(
        agents=agents,
        reranker=reranker,
        store=store,
        pair_policy=settings.pair_policy,
        pair_explore=settings.pair_explore,
        flagged_voters=settings.flagged_voters,
        vote_quorum=settings.vote_quorum,
        vote_window_hours=settings.vote_window_hours,
        model_name=model_name or "",
        executor=executor,
        tester=tester,
        rng=rng or random.Random(),
        clock=clock,
        metrics=metrics,
    )
    comparisons = Comparisons(
        build_graph(graph_services, coordination.checkpointer),
        store=store,
        locks=coordination.locks,
        clock=clock,
        metrics=metrics,
        redactor=settings.redactor(),
    )
    return Services(
        settings=settings,
        store=store,
        comparisons=comparisons,
        coordination=coordination,
        local_model=local_model,
        executor=executor,
        metrics=metrics,
    )
