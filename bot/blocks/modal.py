"""The modal that shows a whole answer."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.text import SECTION_LIMIT, to_mrkdwn

MAX_SECTIONS = 90  # a modal holds at most 100 blocks


def _chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split ``text`` into section-sized pieces at line breaks; a code block that spans two pieces
    is closed at the end of one and reopened at the start of the next."""
    room = limit - len("```\n") - len("\n```")
    lines = [
        line[i : i + room] for line in text.split("\n") for i in range(0, max(len(line), 1), room)
    ]
    pieces: list[str] = []
    current: list[str] = []
    in_code = False
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > room:
            pieces.append("\n".join(current) + ("\n```" if in_code else ""))
            current, size = (["```"], 4) if in_code else ([], 0)
        current.append(line)
        size += len(line) + 1
        if line.lstrip().startswith("```"):
            in_code = not in_code
    if current:
        pieces.append("\n".join(current))
    return pieces[:MAX_SECTIONS]


def full_answer_view(label: str, answer_text: str) -> dict[str, Any]:
    """A modal with the whole of answer ``label``."""
    sections = [
        SectionBlock(text=MarkdownTextObject(text=chunk))
        for chunk in _chunks(to_mrkdwn(answer_text))
    ]
    view = View(
        type="modal",
        callback_id=ids.FULL_ANSWER_VIEW,
        title=f"Answer {label}",
        close="Close",
        blocks=sections,
    )
    return view.to_dict()
