"""The scheduled jobs' Slack side: the results of comparisons closed by their deadline, and the
weekly digest."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.digest import post_weekly_digest
from bot.services import BotServices
from coderank.config import Settings
from coderank.jobs.scheduler import CLOSE_DUE_JOB, CLOSE_TASK, DIGEST_JOB, Jobs
from coderank.jobs.tasks import close_due, close_voting

log = logging.getLogger(__name__)


def bot_tasks(services: BotServices, client: WebClient) -> dict[str, Callable[..., Any]]:
    """The tasks the scheduler runs in the bot process, by name."""

    def closing_due() -> None:
        closed = close_due(services.comparisons, services.surface.show)
        if closed:
            log.info("closed %d comparison(s) past their voting deadline", closed)

    def close(comparison_id: str) -> None:  # a deadline job of the previous version
        close_voting(services.comparisons, comparison_id, services.surface.show)

    def digest() -> None:
        channel = services.settings.digest_channel
        if channel is None:
            log.warning("weekly digest skipped: DIGEST_CHANNEL is not set")
            return
        post_weekly_digest(services, client, channel)

    return {CLOSE_DUE_JOB: closing_due, CLOSE_TASK: close, DIGEST_JOB: digest}


def start_jobs(
    settings: Settings, services: BotServices, client: WebClient, **options: Any
) -> Jobs:
    """Build the scheduler over the bot's tasks, hand it to the services and start it. The
    digest is scheduled only when ``DIGEST_CHANNEL`` is set."""
    options.setdefault("clock", services.clock)  # the database's clock across machines
    # One owner per process (two processes may share a DATA_DIR, hence a replica id).
    options.setdefault("owner", f"{services.core_settings.replica_id}:{os.getpid()}")
    jobs = Jobs(
        settings,
        bot_tasks(services, client),
        schedule_digest=services.settings.digest_channel is not None,
        **options,
    )
    services.jobs = jobs
    jobs.start()
    return jobs
