"""What the listeners need, built once by the composition root and passed to ``create_app``."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.config import SlackSettings
from bot.streams import ProgressStreams
from bot.surface import SlackSurface
from bot.workers import MessageUpdater
from coderank.comparisons import Comparisons
from coderank.config import Settings
from coderank.coordination import Claims, Gate
from coderank.generation import GenerationPool, Generations
from coderank.jobs.scheduler import Jobs
from coderank.metrics import Metrics
from coderank.reranker.registry import reranker_source
from coderank.services import Services
from coderank.store import Store


@dataclass
class BotServices:
    settings: SlackSettings
    comparisons: Comparisons
    store: Store
    core_settings: Settings
    generations: Generations
    surface: SlackSurface
    updater: MessageUpdater
    ledger: Claims
    finetune_gate: Gate
    clock: Callable[[], float] = time.time  # leases are timed by it (the database's, shared)
    jobs: Jobs | None = None  # set by bot.jobs.start_jobs
    execution_status: Callable[[], str] = lambda: "off"  # "on (bwrap-3; ...)" or "off: why"
    metrics: Metrics = field(default_factory=Metrics)  # the core's: one registry per process
    # Slower answers than a 3-second ack allows (stats, digest on demand), one at a time.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="background")
    )

    @property
    def reranker_model(self) -> str:
        """The reranker in use now (a promoted fine-tune is picked up without restarting)."""
        return reranker_source(self.core_settings, self.store)[1]

    def is_admin(self, user: str) -> bool:
        return user in self.settings.admins

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.shutdown()
        self.background.shutdown(wait=True)
        self.generations.shutdown()
        self.updater.flush()
        self.surface.close()
        self.ledger.close()
        self.generations.pending.close()


def build_bot_services(
    slack: SlackSettings, settings: Settings, core: Services, *, client: WebClient
) -> BotServices:
    updater = MessageUpdater(client, interval_s=slack.update_interval_s)
    streams = ProgressStreams(client) if slack.stream_progress else None
    surface = SlackSurface(
        updater, core.comparisons, streams, checks_while_voting=settings.checks_while_voting
    )
    shared = core.coordination
    pool = GenerationPool(slack.gen_workers)
    core.metrics.watch_generations(queued=lambda: pool.waiting, running=lambda: pool.running)
    generations = Generations(core.comparisons, shared.pending(), pool, surface)
    return BotServices(
        settings=slack,
        comparisons=core.comparisons,
        store=core.store,
        core_settings=settings,
        generations=generations,
        surface=surface,
        updater=updater,
        ledger=shared.claims(),
        finetune_gate=shared.gate(),
        clock=shared.clock,
        execution_status=lambda: core.executor.status,
        metrics=core.metrics,
    )
