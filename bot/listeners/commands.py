"""``/coderank`` and ``/coderank-admin``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.blocks.finetune import runs_text
from bot.blocks.progress import failed_message, progress_message
from bot.blocks.stats import stats_message
from bot.blocks.vote import vote_message
from bot.finetune import claim_finetune, launch_finetune
from bot.jobs import post_weekly_digest
from bot.services import BotServices
from coderank.agents.prompts import AGENTS
from coderank.comparisons import validate_problem
from coderank.errors import CoderankError, GenerationError, InvalidProblemError
from coderank.evaluation.report import evaluate
from coderank.finetune.run import last_runs
from coderank.store import COLLECTIONS, FEEDBACK

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
    try:
        _generate(services, comparison_id, problem, requester, channel, ts)
    finally:
        services.ledger.finish(comparison_id)  # shown: the pair, or why there is none


def _generate(
    services: BotServices, comparison_id: str, problem: str, requester: str, channel: str, ts: str
) -> None:
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
    except CoderankError as exc:  # too few answers, a model or the store failed
        if not isinstance(exc, GenerationError):
            log.error("comparison %s failed: %s: %s", comparison_id, type(exc).__name__, exc)
        text, blocks = failed_message(requester=requester, problem=problem, error=str(exc))
        services.updater.push(channel, ts, text=text, blocks=blocks, final=True)
        return
    except Exception as exc:  # never leave the message on "generating" with nothing said
        log.exception("comparison %s failed", comparison_id)
        text, blocks = failed_message(
            requester=requester,
            problem=problem,
            error=messages.INTERNAL_ERROR.format(kind=type(exc).__name__),
        )
        services.updater.push(channel, ts, text=text, blocks=blocks, final=True)
        return
    text, blocks = vote_message(state)
    services.updater.push(channel, ts, text=text, blocks=blocks)
    jobs = services.jobs
    if jobs is None or state.get("closed") or jobs.close_deadline(comparison_id) is not None:
        return
    deadline = jobs.deadline_after(datetime.now(UTC))
    if deadline is not None:
        jobs.schedule_close(comparison_id, at=deadline)


def in_background(services: BotServices, respond: Respond, job: Callable[[], object]) -> None:
    """Run ``job`` after the ack; if it fails, the user is told rather than left waiting."""

    def run() -> None:
        try:
            job()
        except Exception as exc:  # a background failure would otherwise vanish
            log.exception("background job failed")
            error = str(exc) if isinstance(exc, CoderankError) else type(exc).__name__
            respond(
                text=messages.SOMETHING_WENT_WRONG.format(error=error), response_type="ephemeral"
            )

    services.background.submit(run)


def stats_reply(services: BotServices) -> dict[str, Any]:
    """The ephemeral ``/coderank stats`` summary, over every vote stored."""
    report = evaluate(services.store.find(FEEDBACK))
    counts = {name: services.store.count(name) for name in COLLECTIONS}
    text, blocks = stats_message(report, counts)
    return {"text": text, "blocks": blocks, "response_type": "ephemeral"}


def status_reply(services: BotServices) -> dict[str, Any]:
    """The ephemeral ``/coderank-admin status``: the model in use, the store, the last runs."""
    counts = ", ".join(f"{name}: {services.store.count(name)}" for name in COLLECTIONS)
    text = messages.STATUS.format(
        model=services.reranker_model,
        counts=counts,
        runs=runs_text(last_runs(services.store)),
    )
    return {"text": text, "response_type": "ephemeral"}


def _show_status(services: BotServices, request: dict[str, str], status: str) -> None:
    """Show ``status`` in a requested comparison's progress message."""
    text, blocks = progress_message(
        requester=request["requester"], problem=request["problem"], finished={}, status=status
    )
    services.updater.push(request["channel"], request["ts"], text=text, blocks=blocks)


def submit_generation(services: BotServices, request: dict[str, str]) -> int:
    """Queue one comparison's generation (``request``: comparison_id, problem, requester, channel,
    ts); returns its place in the queue (0: it starts now). If the bot stops before its turn, its
    message says so and the next start resumes it (:func:`resume_pending`)."""

    def paused() -> None:
        _show_status(services, request, messages.PAUSED_BY_RESTART)

    try:
        _, ahead = services.pool.submit(
            lambda: run_comparison(services, **request), on_cancel=paused
        )
    except RuntimeError:  # the bot is shutting down: the request stays pending for the restart
        paused()
        return 0
    return ahead


def resume_pending(services: BotServices) -> int:
    """At start-up: generate the comparisons asked for before a restart (or a crash) whose
    generation never ended. A run cut off part-way continues from its checkpoint. Returns how
    many were resumed."""
    pending = services.ledger.pending()
    for cid, request in pending:
        log.info("resuming comparison %s after a restart", cid)
        _show_status(services, request, messages.RESUMED_AFTER_RESTART)
        submit_generation(services, request)
    return len(pending)


def register(app: App, services: BotServices) -> None:
    @app.command("/coderank")
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
        request = {
            "comparison_id": cid,
            "problem": problem,
            "requester": user,
            "channel": channel,
            "ts": posted["ts"],
        }
        services.ledger.add_pending(cid, request)  # until its message shows the pair or a failure
        ahead = submit_generation(services, request)
        ts = request["ts"]
        if ahead:
            respond(text=messages.QUEUED.format(ahead=ahead), response_type="ephemeral")
            text, blocks = progress_message(
                requester=user, problem=problem, finished={}, queued_ahead=ahead
            )
            services.updater.push(channel, ts, text=text, blocks=blocks)

    @app.command("/coderank-admin")
    def coderank_admin(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        if command["user_id"] not in services.settings.admins:
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
        if verb != "status":
            ack(text=messages.ADMIN_USAGE)
            return
        ack(text=messages.STATUS_WORKING)  # counting a large Astra store can take seconds
        in_background(services, respond, lambda: respond(**status_reply(services)))
