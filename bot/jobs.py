"""The scheduled jobs' Slack side: what closing a vote and the weekly digest show in Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot.digest import post_digest
from bot.listeners.actions import show_state
from bot.services import BotServices
from coderank.config import Settings
from coderank.evaluation.weekly import digest_from_store
from coderank.jobs.scheduler import CLOSE_TASK, DIGEST_JOB, Jobs
from coderank.jobs.tasks import close_voting

log = logging.getLogger(__name__)


def post_weekly_digest(
    services: BotServices, client: WebClient, channel: str, *, now: datetime | None = None
) -> str:
    """Compute this week's figures against last week's, store them as an evaluation run and post
    them with the chart. Returns the message ts."""
    digest = digest_from_store(services.store, now=now or datetime.now(UTC))
    return post_digest(client, channel, digest)


def bot_tasks(services: BotServices, client: WebClient) -> dict[str, Callable[..., Any]]:
    """The tasks the scheduler runs in the bot process, by name."""

    def close(comparison_id: str) -> None:
        final = close_voting(services.comparisons, comparison_id)
        surface = (final or {}).get("surface") or {}
        if final is not None and surface.get("channel") and surface.get("ts"):
            show_state(services, final, surface["channel"], surface["ts"])

    def digest() -> None:
        channel = services.settings.digest_channel
        if channel is None:
            log.warning("weekly digest skipped: DIGEST_CHANNEL is not set")
            return
        post_weekly_digest(services, client, channel)

    return {CLOSE_TASK: close, DIGEST_JOB: digest}


def start_jobs(
    settings: Settings, services: BotServices, client: WebClient, **options: Any
) -> Jobs:
    """Build the scheduler over the bot's tasks, hand it to the services and start it. The
    digest is scheduled only when ``DIGEST_CHANNEL`` is set."""
    jobs = Jobs(
        settings,
        bot_tasks(services, client),
        schedule_digest=services.settings.digest_channel is not None,
        **options,
    )
    services.jobs = jobs
    jobs.start()
    return jobs
