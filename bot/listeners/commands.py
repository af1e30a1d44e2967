"""``/coderank`` and ``/coderank-admin``."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.blocks.progress import failed_message, progress_message
from bot.blocks.vote import vote_message
from bot.services import BotServices
from coderank.agents.prompts import AGENTS
from coderank.comparisons import validate_problem
from coderank.errors import GenerationError, InvalidProblemError
from coderank.store import COLLECTIONS

log = logging.getLogger(__name__)


def comparison_id_for(trigger_id: str) -> str:
    """One comparison per slash command: a Slack retry carries the same ``trigger_id``."""
    return "s" + hashlib.sha256(trigger_id.encode()).hexdigest()[:15]


def run_comparison(
    services: BotServices,
    *,
    comparison_id: str,
    problem: str,
    requester: str,
    channel: str,
    ts: str,
) -> None:
    """Generate, score and pair (on a pool worker), updating the channel message as it goes."""
    finished: dict[str, bool] = {}

    def on_progress(node: str, update: dict[str, Any]) -> None:
        if node in AGENTS:
            finished[node] = update["answers"][0]["error"] is None
            text, blocks = progress_message(requester=requester, problem=problem, finished=finished)
            services.updater.push(channel, ts, text=text, blocks=blocks)

    try:
        state = services.comparisons.start(
            problem,
            requester=requester,
            source="slack",
            comparison_id=comparison_id,
            surface={"channel": channel, "ts": ts},
            on_progress=on_progress,
        )
    except GenerationError as exc:
        text, blocks = failed_message(requester=requester, problem=problem, error=str(exc))
    else:
        text, blocks = vote_message(state)
    services.updater.push(channel, ts, text=text, blocks=blocks)


def register(app: App, services: BotServices) -> None:
    @app.command("/coderank")
    def coderank(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        text = (command.get("text") or "").strip()
        if not text or text.lower() == "help":
            ack(text=messages.USAGE)
            return
        try:
            problem = validate_problem(text)
        except InvalidProblemError as exc:
            ack(text=f"Sorry: {exc}.")
            return
        ack()
        cid = comparison_id_for(command["trigger_id"])
        if not services.ledger.claim(f"command:{cid}"):
            return  # a retry of a command already being handled
        user, channel = command["user_id"], command["channel_id"]
        text, blocks = progress_message(requester=user, problem=problem, finished={})
        try:
            posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            services.ledger.release(f"command:{cid}")
            if exc.response.get("error") in ("not_in_channel", "channel_not_found"):
                respond(text=messages.NOT_IN_CHANNEL, response_type="ephemeral")
                return
            raise
        ts = posted["ts"]
        _, ahead = services.pool.submit(
            lambda: run_comparison(
                services, comparison_id=cid, problem=problem, requester=user, channel=channel, ts=ts
            )
        )
        if ahead:
            respond(text=messages.QUEUED.format(ahead=ahead), response_type="ephemeral")
            text, blocks = progress_message(
                requester=user, problem=problem, finished={}, queued_ahead=ahead
            )
            services.updater.push(channel, ts, text=text, blocks=blocks)

    @app.command("/coderank-admin")
    def coderank_admin(ack: Ack, command: dict[str, Any]) -> None:
        if command["user_id"] not in services.settings.admins:
            ack(text=messages.NOT_ADMIN)
            return
        if (command.get("text") or "").strip().lower() != "status":
            ack(text=messages.ADMIN_USAGE)
            return
        counts = ", ".join(f"{name}: {services.store.count(name)}" for name in COLLECTIONS)
        model = services.reranker_model
        ack(text=f"*CodeRank status*\nReranker in use: `{model}`\nStored: {counts}")
