"""``/coderank`` and ``/coderank-admin``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.blocks.finetune import runs_text
from bot.blocks.progress import progress_message
from bot.blocks.stats import stats_message
from bot.digest import post_weekly_digest
from bot.failures import failure_text, guarded
from bot.finetune import claim_finetune, launch_finetune
from bot.services import BotServices
from bot.surface import SOURCE
from coderank.errors import InvalidProblemError
from coderank.evaluation.formatting import voters_text
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.report import closed_between, evaluate, excluded_voters
from coderank.evaluation.voters import check_voters
from coderank.finetune.run import last_runs
from coderank.generation import GenerationRequest
from coderank.problems import validate_problem
from coderank.store import COLLECTIONS, Window

log = logging.getLogger(__name__)


def comparison_id_for(trigger_id: str) -> str:
    """One comparison per slash command: a Slack retry carries the same ``trigger_id``."""
    return "s" + hashlib.sha256(trigger_id.encode()).hexdigest()[:15]


def in_background(services: BotServices, respond: Respond, job: Callable[[], object]) -> None:
    """Run ``job`` after the ack; if it fails, the user is told rather than left waiting."""

    def run() -> None:
        try:
            job()
        except Exception as exc:  # a background failure would otherwise vanish
            log.exception("background job failed")
            respond(text=failure_text(exc), response_type="ephemeral")

    services.background.submit(run)


def stats_reply(services: BotServices) -> dict[str, Any]:
    """The ephemeral ``/coderank stats`` summary, over every closed comparison (what
    ``scripts/evaluate_reranker.py`` reports without a window)."""
    without = excluded_voters(services.store, services.core_settings.flagged_voters)
    report = evaluate(closed_between(services.store, Window(), without=without))
    counts = {name: services.store.count(name) for name in COLLECTIONS}
    text, blocks = stats_message(report, counts)
    return {"text": text, "blocks": blocks, "response_type": "ephemeral"}


def status_reply(services: BotServices) -> dict[str, Any]:
    """The ephemeral ``/coderank-admin status``: the model in use, the store, the last runs."""
    counts = ", ".join(f"{name}: {services.store.count(name)}" for name in COLLECTIONS)
    text = messages.STATUS.format(
        model=services.reranker_model,
        execution=services.execution_status(),
        counts=counts,
        runs=runs_text(last_runs(services.store)),
    )
    return {"text": text, "response_type": "ephemeral"}


def voters_reply(services: BotServices) -> dict[str, Any]:
    """The ephemeral ``/coderank-admin voters``: each voter against the gold comparisons."""
    checks = check_voters(judged_pairs(closed_between(services.store, Window())))
    lines = voters_text(checks.records, checks.anomalies)
    return {"text": messages.VOTERS.format(lines=lines), "response_type": "ephemeral"}


def register(app: App, services: BotServices) -> None:
    @app.command("/coderank")
    @guarded
    def coderank(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        text = (command.get("text") or "").strip()
        if not text or text.lower() == "help":
            ack(text=messages.USAGE)
            return
        if text.lower() == "stats":
            ack(text=messages.STATS_WORKING)
            in_background(services, respond, lambda: respond(**stats_reply(services)))
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
        # The team is the requester's: Slack streams the progress into the thread for them.
        where = {"channel": channel, "ts": str(posted["ts"]), "team": command.get("team_id")}
        request = GenerationRequest(
            comparison_id=cid,
            problem=problem,
            requester=user,
            source=SOURCE,
            surface={key: value for key, value in where.items() if value},
        )
        services.surface.posted(request)
        ahead = services.generations.submit(request)  # pending until it shows a pair or fails
        if ahead:
            respond(text=messages.QUEUED.format(ahead=ahead), response_type="ephemeral")

    @app.command("/coderank-admin")
    @guarded
    def coderank_admin(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        if not services.is_admin(command["user_id"]):
            ack(text=messages.NOT_ADMIN)
            return
        verb = (command.get("text") or "").strip().lower()
        if verb == "digest":
            channel = services.settings.digest_channel or command["channel_id"]
            ack(text=messages.DIGEST_POSTING.format(channel=channel))

            def digest() -> None:
                post_weekly_digest(services, client, channel)
                respond(
                    text=messages.DIGEST_POSTED.format(channel=channel), response_type="ephemeral"
                )

            in_background(services, respond, digest)
            return
        if verb == "finetune":
            busy = claim_finetune(services, by=command["user_id"])
            ack(text=busy or messages.FINETUNE_STARTED)
            if busy is None:
                launch_finetune(services, client, by=command["user_id"])
            return
        if verb == "voters":
            ack(text=messages.VOTERS_WORKING)
            in_background(services, respond, lambda: respond(**voters_reply(services)))
            return
        if verb != "status":
            ack(text=messages.ADMIN_USAGE)
            return
        ack(text=messages.STATUS_WORKING)  # counting a large Astra store can take seconds
        in_background(services, respond, lambda: respond(**status_reply(services)))
