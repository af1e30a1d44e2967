"""An answer as Slack rich text: its prose as ``rich_text_section`` elements, each fenced code
block as ``rich_text_preformatted`` with ``language: "python"``, which Slack shows highlighted.

Rich text is plain text (no mrkdwn escaping); inline ```code``` and ``**bold**`` become styles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from slack_sdk.models.blocks import (
    RichTextBlock,
    RichTextElement,
    RichTextElementParts,
    RichTextPreformattedElement,
    RichTextSectionElement,
)

PYTHON = "python"
# Fence tags read as Python; an untagged fence too, since the agents are asked for Python.
_PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3"})
# A fence opens (or closes) at the start of a line, as coderank.fences.extract_code reads it.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)")
_INLINE = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*")
MORE = "…"

Text = RichTextElementParts.Text
Style = RichTextElementParts.TextStyle


@dataclass(frozen=True)
class Segment:
    """A run of an answer: prose, or the body of one fenced code block (without its fences)."""

    text: str
    code: bool = False
    language: str | None = None  # of code: "python", or None for another language (no colours)


class CodeElement(RichTextPreformattedElement):
    """``rich_text_preformatted`` with the ``language`` Slack highlights by. slack_sdk 3.48's
    element has no such field (parsing a dict drops it), so this one adds it to what it sends."""

    @property
    def attributes(self) -> set[str]:  # type: ignore[override]
        return {*super().attributes, "language"}

    def __init__(self, *, text: str, language: str | None) -> None:
        super().__init__(elements=[Text(text=text)], border=0)
        self.language = language


def segments(answer: str) -> list[Segment]:
    """``answer`` (Markdown) as its prose and code runs, in order; blank runs are dropped. A fence
    left open (a cut-off generation) runs to the end."""
    found: list[Segment] = []
    lines: list[str] = []
    tag: str | None = None  # the open fence's language tag; None in prose

    def flush() -> None:
        text = "\n".join(lines)
        lines.clear()
        if not text.strip():
            return
        if tag is None:
            found.append(Segment(text.strip()))
        else:
            language = PYTHON if tag in _PYTHON_TAGS else None
            found.append(Segment(text.strip("\n").rstrip(), code=True, language=language))

    for line in answer.replace("\r\n", "\n").split("\n"):
        fence = _FENCE.match(line)
        if fence is None:
            lines.append(line)
            continue
        flush()
        tag = fence.group(1).lower() if tag is None else None
    flush()
    return found


def size(runs: Sequence[Segment]) -> int:
    """Characters of text in ``runs``."""
    return sum(len(run.text) for run in runs)


def _split(text: str, room: int) -> tuple[str, str]:
    """``text`` cut to at most ``room`` characters (at a line break in its last half when there is
    one; the line break is dropped), and the rest."""
    if len(text) <= room:
        return text, ""
    if room <= 0:
        return "", text
    at = text.rfind("\n", 0, room + 1)
    if at > room // 2:
        return text[:at], text[at + 1 :]
    return text[:room], text[room:]


def fit(runs: Sequence[Segment], limit: int) -> tuple[list[Segment], bool]:
    """The start of ``runs`` that fits in ``limit`` characters, the last run cut at a line break
    if it does not fit whole; and whether anything was left out."""
    kept: list[Segment] = []
    used = 0
    for run in runs:
        if used + len(run.text) <= limit:
            kept.append(run)
            used += len(run.text)
            continue
        head, _ = _split(run.text, limit - used)
        if head.strip():
            kept.append(replace(run, text=head))
        return kept, True
    return kept, False


def pages(runs: Sequence[Segment], limit: int) -> list[list[Segment]]:
    """``runs`` in pages of at most ``limit`` characters; a run that does not fit in what is left
    of a page is split at a line break and goes on in the next (a long line is split where it
    must). No text is lost but the line breaks the runs are split at."""
    done: list[list[Segment]] = []
    page: list[Segment] = []
    used = 0
    for run in runs:
        text = run.text
        while text:
            room = limit - used
            if page and len(text) > room and text.rfind("\n", 0, room + 1) <= room // 2:
                done.append(page)  # no line break to split at here: start the run on a new page
                page, used = [], 0
                continue
            head, text = _split(text, room)
            page.append(replace(run, text=head))
            used += len(head)
            if text:
                done.append(page)
                page, used = [], 0
    if page:
        done.append(page)
    return done


def _inline(text: str) -> list[RichTextElement]:
    """Prose, its ```code``` and ``**bold**`` spans styled."""
    elements: list[RichTextElement] = []
    at = 0
    for span in _INLINE.finditer(text):
        if span.start() > at:
            elements.append(Text(text=text[at : span.start()]))
        if span.group(1) is not None:
            elements.append(Text(text=span.group(1), style=Style(code=True)))
        else:
            elements.append(Text(text=span.group(2), style=Style(bold=True)))
        at = span.end()
    if at < len(text):
        elements.append(Text(text=text[at:]))
    return elements


def rich_text(
    runs: Sequence[Segment],
    *,
    heading: str | None = None,
    more: bool = False,
    block_id: str | None = None,
) -> RichTextBlock:
    """One ``rich_text`` block: an optional bold ``heading``, the runs, and ``…`` if ``more``."""
    elements: list[RichTextElement] = []
    if heading:
        elements.append(
            RichTextSectionElement(elements=[Text(text=heading, style=Style(bold=True))])
        )
    for run in runs:
        if run.code:
            elements.append(CodeElement(text=run.text, language=run.language))
        else:
            elements.append(RichTextSectionElement(elements=_inline(run.text)))
    if more or not elements:
        elements.append(RichTextSectionElement(elements=[Text(text=MORE)]))
    return RichTextBlock(elements=elements, block_id=block_id)


def answer_block(
    answer: str, *, heading: str, limit: int, block_id: str | None = None
) -> tuple[RichTextBlock, bool]:
    """``answer`` under ``heading``, cut to ``limit`` characters; and whether it was cut."""
    runs, was_cut = fit(segments(answer), limit)
    return rich_text(runs, heading=heading, more=was_cut, block_id=block_id), was_cut
