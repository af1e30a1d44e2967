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
from coderank.jobs.scheduler import Jobs
from coderank.reranker.cross_encoder import reranker_source
from coderank.services import Services
from coderank.store import Store


@dataclass
class BotServices:
    settings: SlackSettings
    comparisons: Comparisons
    store: Store
    reranker_model: str
    pool: GenerationPool
    updater: MessageUpdater
    ledger: RequestLedger
    jobs: Jobs | None = None  # set by bot.jobs.start_jobs
    # Slower answers than a 3-second ack allows (stats, digest on demand), one at a time.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="background")
    )

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
        reranker_model=reranker_source(settings)[1],
        pool=GenerationPool(slack.gen_workers),
        updater=MessageUpdater(client),
        ledger=RequestLedger(Path(settings.data_dir) / "slack_requests.db"),
    )
