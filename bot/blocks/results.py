"""The closed comparison: who wrote A and B, the tally, the outcome and the reranker's view."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids, messages
from bot.blocks.text import escape
from bot.blocks.vote import answer_blocks, problem_block
from coderank.agents.prompts import LABELS
from coderank.models import BY_DEADLINE, BY_QUORUM, Comparison

OUTCOMES = {
    "A": "Answer A is better",
    "B": "Answer B is better",
    "tie": "a tie",
    "both_bad": "both answers are bad",
    None: "no votes",
}


def reranker_line(comparison: Comparison) -> str:
    verdict = {
        True: "The reranker agreed",
        False: "The reranker disagreed",
        None: "No decisive majority to compare with the reranker",
    }[comparison.reranker_agrees]
    return (
        f"{verdict} (scores: A {comparison.score_a:.4f}, B {comparison.score_b:.4f}; "
        f"model `{comparison.reranker_model}`)."
    )


def checks_line(comparison: Comparison) -> str:
    """What running the two answers showed, and which answer it picked ("" when not run)."""
    text = comparison.checks_text()
    if not text:
        return ""
    tests = f" The Tester wrote {len(comparison.tests)} of them." if comparison.tests else ""
    return f"\n*Checks:* {escape(text)}.{tests} {escape(comparison.pick_text())}"


def closed_line(comparison: Comparison) -> str:
    """Who or what closed voting."""
    if comparison.closed_how == BY_QUORUM:
        return messages.CLOSED_BY_QUORUM
    if comparison.closed_how == BY_DEADLINE:
        return messages.CLOSED_BY_TIME
    return messages.CLOSED_BY.format(user=comparison.closed_by)


def results_message(comparison: Comparison) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a closed comparison."""
    shown = comparison.shown()
    counts = comparison.counts
    voters = comparison.voters
    authors = (
        f"Answer A was written by *{LABELS[shown['A'].agent]}*, "
        f"answer B by *{LABELS[shown['B'].agent]}*."
    )
    counted = " · ".join(f"{messages.CHOICE_LABELS[c]}: {n}" for c, n in counts.items())
    outcome = OUTCOMES[comparison.outcome]
    blocks: list[Block] = [
        HeaderBlock(text="Voting closed"),
        problem_block(comparison),
        DividerBlock(),
        *answer_blocks(comparison),
        DividerBlock(),
        SectionBlock(
            block_id=ids.BLOCK_RESULT,
            text=MarkdownTextObject(
                text=f"{authors}\n*Outcome:* {outcome} ({counted}; {voters} voter"
                f"{'' if voters == 1 else 's'}).\n{reranker_line(comparison)}"
                f"{checks_line(comparison)}"
            ),
        ),
        ContextBlock(
            block_id=ids.BLOCK_TALLY, elements=[MarkdownTextObject(text=closed_line(comparison))]
        ),
    ]
    text = f"Voting closed: {outcome}. {authors}"
    return text, [b.to_dict() for b in blocks]
