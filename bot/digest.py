"""Posting the weekly digest: the Block Kit message, then its chart in the message's thread."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.blocks.digest import digest_message
from bot.services import BotServices
from coderank.evaluation.report import excluded_voters
from coderank.evaluation.weekly import Digest, digest_from_store

CHART_FILENAME = "coderank-accuracy.png"


def post_digest(client: WebClient, channel: str, digest: Digest) -> str:
    """Post ``digest`` to ``channel`` and upload its history chart as a reply in the message's
    thread (so the channel gets one message). Returns the digest message's ``ts``."""
    # matplotlib loads only when a digest is posted, not when the bot starts.
    from coderank.evaluation.chart import history_chart

    text, blocks = digest_message(digest)
    response = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    ts = str(response["ts"])
    weeks = len(digest.history)
    client.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        content=history_chart(digest.history),
        filename=CHART_FILENAME,
        title=f"Reranker accuracy and Kendall's tau-b, last {weeks} week{'s' * (weeks != 1)}",
        alt_txt="Weekly accuracy and Kendall's tau-b of the reranker against the team's votes, "
        "with 95% intervals",
    )
    return ts


def post_weekly_digest(
    services: BotServices, client: WebClient, channel: str, *, now: datetime | None = None
) -> str:
    """Compute this week's figures against last week's, store them as an evaluation run and post
    them with the chart. Returns the message ts."""
    store = services.store
    without = excluded_voters(store, services.core_settings.flagged_voters)
    digest = digest_from_store(store, now=now or datetime.now(UTC), without=without)
    return post_digest(client, channel, digest)
