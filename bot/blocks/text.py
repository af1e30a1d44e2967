"""Turning problems and figures into Slack mrkdwn that fits a section (answers are rich text:
:mod:`bot.blocks.answers`)."""

from __future__ import annotations

SECTION_LIMIT = 3000


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters at a line break, closing an open code block.

    Returns the text and whether it was cut.
    """
    if len(text) <= limit:
        return text, False
    room = limit - len("\n```\n…")
    head = text[:room]
    if "\n" in head[room // 2 :]:
        head = head[: head.rindex("\n")]
    if head.count("```") % 2:
        head += "\n```"
    return head + "\n…", True


def quote(text: str, limit: int) -> str:
    """``text`` as a Slack block quote, escaped and cut to ``limit`` characters."""
    body, _ = cut(escape(text.strip()), limit)
    return "\n".join(f">{line}" for line in body.splitlines())
