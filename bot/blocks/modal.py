"""The modal that shows a whole answer, as rich text (code highlighted as Python)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View

from bot import ids, messages
from bot.blocks.answers import pages, rich_text, segments, size

MAX_BLOCKS = 100  # a modal holds at most 100 blocks
PAGE_LIMIT = 3000  # characters of the answer per rich_text block, as a section holds


def full_answer_view(label: str, answer_text: str) -> dict[str, Any]:
    """A modal with the whole of answer ``label``; an answer longer than a modal holds is shown
    up to that, and the modal says so."""
    runs = segments(answer_text)
    parts = pages(runs, PAGE_LIMIT)
    blocks: list[Block] = [rich_text(part) for part in parts[:MAX_BLOCKS]] or [rich_text([])]
    if len(parts) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1]
        shown = sum(size(part) for part in parts[: MAX_BLOCKS - 1])
        note = messages.ANSWER_TOO_LONG.format(shown=shown, total=size(runs))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    view = View(
        type="modal",
        callback_id=ids.FULL_ANSWER_VIEW,
        title=f"Answer {label}",
        close="Close",
        blocks=blocks,
    )
    return view.to_dict()
