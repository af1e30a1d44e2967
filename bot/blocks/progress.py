"""The message shown while the agents work, and when a comparison could not be made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot import messages
from bot.blocks.text import escape, quote
from coderank.agents.prompts import AGENTS, LABELS

PROBLEM_LIMIT = 2500


def progress_message(
    *,
    requester: str,
    problem: str,
    finished: Mapping[str, bool],
    queued_ahead: int = 0,
    status: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """``finished`` maps agent -> True (answered) / False (failed); agents not in it are working.
    ``status`` replaces the line that says what is happening."""
    if status is None and queued_ahead:
        status = f"Queued: number {queued_ahead} in the queue. {messages.GENERATING}"
    elif status is None and len(finished) == len(AGENTS):
        status = "All agents finished; scoring and choosing two answers…"
    elif status is None:
        status = messages.GENERATING.capitalize()
    marks = " · ".join(
        f"{'✅' if finished[a] else '❌'} {LABELS[a]}" if a in finished else f"⏳ {LABELS[a]}"
        for a in AGENTS
    )
    header = f"<@{requester}> asked:\n{quote(problem, PROBLEM_LIMIT)}"
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=header)),
        ContextBlock(elements=[MarkdownTextObject(text=f"{status}\n{marks}")]),
    ]
    return f"<@{requester}> asked CodeRank: {status}", [b.to_dict() for b in blocks]


def generation_failed(error: str) -> str:
    """Why a comparison could not be made, with the error's text (which may quote a model
    endpoint) escaped: a ``<!channel>`` in it is shown, never sent."""
    return messages.GENERATION_FAILED.format(error=escape(error))


def failed_message(*, requester: str, problem: str, error: str) -> tuple[str, list[dict[str, Any]]]:
    text = generation_failed(error)
    header = f"<@{requester}> asked:\n{quote(problem, PROBLEM_LIMIT)}"
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=header)),
        SectionBlock(text=MarkdownTextObject(text=f":warning: {text}")),
    ]
    return text, [b.to_dict() for b in blocks]
