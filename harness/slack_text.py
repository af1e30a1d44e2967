"""What a person reads in a Slack message: its text and its blocks' texts, as one string."""

from __future__ import annotations

from typing import Any

RICH_TEXT_LINES = ("rich_text_section", "rich_text_preformatted", "rich_text_quote")


def text_of(message: dict[str, Any]) -> str:
    """Every text in a message's blocks, joined. A rich text line is one text (its styled runs
    joined), and its preformatted code is fenced as ``` so a test sees code as code."""
    parts: list[str] = [message.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in RICH_TEXT_LINES:
                line = "".join(str(e.get("text") or "") for e in node.get("elements") or [])
                fenced = node["type"] == "rich_text_preformatted"
                parts.append(f"```\n{line}\n```" if fenced else line)
                return
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)
