"""What the listeners need, built once by the composition root and passed to ``create_app``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk import WebClient

from bot.config import SlackSettings
from bot.ledger import RequestLedger
from bot.workers import GenerationPool, MessageUpdater
from coderank.comparisons import Comparisons
from coderank.config import Settings
from coderank.finetune.gate import FineTuneGate
from coderank.jobs.scheduler import Jobs
from coderank.reranker.registry import reranker_source
from coderank.services import Services
from coderank.store import Store


@dataclass
class BotServices:
    settings: SlackSettings
    comparisons: Comparisons
    store: Store
    core_settings: Settings
    pool: GenerationPool
    updater: MessageUpdater
    ledger: RequestLedger
    finetune_gate: FineTuneGate
    jobs: Jobs | None = None  # set by bot.jobs.start_jobs
    # Slower answers than a 3-second ack allows (stats, digest on demand), one at a time.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="background")
    )

    @property
    def reranker_model(self) -> str:
        """The reranker in use now (a promoted fine-tune is picked up without restarting)."""
        return reranker_source(self.core_settings)[1]

    def can_close(self, user: str, requester: str | None) -> bool:
        return user == requester or user in self.settings.admins

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.shutdown()
        self.background.shutdown(wait=True)
        self.pool.shutdown(wait=True)
        self.updater.flush()
        self.ledger.close()


def build_bot_services(
    slack: SlackSettings, settings: Settings, core: Services, *, client: WebClient
) -> BotServices:
    return BotServices(
        settings=slack,
        comparisons=core.comparisons,
        store=core.store,
        core_settings=settings,
        pool=GenerationPool(slack.gen_workers),
        updater=MessageUpdater(client),
        ledger=RequestLedger(Path(settings.data_dir) / "slack_requests.db"),
        finetune_gate=FineTuneGate(Path(settings.data_dir) / "finetune.lock"),
    )
