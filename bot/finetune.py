"""``/coderank-admin finetune``'s work: one at a time, progress in a direct message to the admin,
then the result."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot import messages
from bot.blocks.finetune import as_blocks, progress_text, result_text
from bot.services import BotServices
from coderank.errors import CoderankError
from coderank.finetune.run import run_finetune

log = logging.getLogger(__name__)


def claim_finetune(services: BotServices, *, by: str) -> str | None:
    """Take the one fine-tune slot for ``by``; returns None, or why not (who is running one since
    when), as the text to tell the admin."""
    holder = services.finetune_gate.try_enter(
        by=by, now=datetime.now(UTC).isoformat(timespec="seconds")
    )
    if holder is None:
        return None
    since = holder.since.replace("T", " ").replace("+00:00", " UTC")
    return messages.FINETUNE_BUSY.format(by=holder.by, since=since)


def launch_finetune(services: BotServices, client: WebClient, *, by: str) -> None:
    """After :func:`claim_finetune`: tell ``by`` in a direct message and run in the background."""
    try:
        text = progress_text(by, "starting", 0.0)
        posted = client.chat_postMessage(channel=by, text=text, blocks=as_blocks(text))
    except BaseException:
        services.finetune_gate.leave()
        raise
    channel, ts = str(posted["channel"]), str(posted["ts"])
    threading.Thread(
        target=_run, args=(services, by, channel, ts), name="finetune", daemon=True
    ).start()


def start_finetune(services: BotServices, client: WebClient, *, by: str) -> str:
    """``/coderank-admin finetune``'s rules for another surface (the App Home's button): admins
    only, one at a time. Returns what to tell ``by``."""
    if not services.is_admin(by):
        return messages.FINETUNE_FORBIDDEN
    busy = claim_finetune(services, by=by)
    if busy is not None:
        return busy
    launch_finetune(services, client, by=by)
    return messages.FINETUNE_STARTED


def _run(services: BotServices, by: str, channel: str, ts: str) -> None:
    def on_progress(stage: str, fraction: float) -> None:
        text = progress_text(by, stage, fraction)
        services.updater.push(channel, ts, text=text, blocks=as_blocks(text))

    try:
        run = run_finetune(
            services.core_settings,
            services.store,
            by=by,
            on_progress=on_progress,
            metrics=services.metrics,
        )
        text = result_text(run.to_document())
    except CoderankError as exc:
        text = messages.FINETUNE_FAILED.format(error=exc)
    except Exception as exc:  # the admin must hear of it; the thread would otherwise die silently
        log.exception("fine-tune failed")
        text = messages.FINETUNE_FAILED.format(error=type(exc).__name__)
    finally:
        services.finetune_gate.leave()
    services.updater.push(channel, ts, text=text, blocks=as_blocks(text))
