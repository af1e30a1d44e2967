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
from bot.blocks.vote import answer_blocks, problem_block
from coderank.agents.prompts import LABELS
from coderank.graph.votes import tally
from coderank.models import CLOSED_BY_TIME

OUTCOMES = {
    "A": "Answer A is better",
    "B": "Answer B is better",
    "tie": "a tie",
    "both_bad": "both answers are bad",
    None: "no votes",
}


def reranker_line(state: dict[str, Any]) -> str:
    pair, scores = state["pair"], state["scores"]
    score_a, score_b = scores[pair["a"]], scores[pair["b"]]
    agrees = state.get("reranker_agrees")
    verdict = {
        True: "The reranker agreed",
        False: "The reranker disagreed",
        None: "No decisive majority to compare with the reranker",
    }[agrees]
    return (
        f"{verdict} (scores: A {score_a:.4f}, B {score_b:.4f}; model `{state['reranker_model']}`)."
    )


def results_message(state: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a closed comparison."""
    pair = state["pair"]
    counts = tally(state.get("votes", {}))
    voters = sum(counts.values())
    closed_by = str(state.get("closed_by"))
    closed = {"quorum": messages.CLOSED_BY_QUORUM, CLOSED_BY_TIME: messages.CLOSED_BY_TIME}.get(
        closed_by, messages.CLOSED_BY.format(user=closed_by)
    )
    authors = f"Answer A was written by *{LABELS[pair['a']]}*, answer B by *{LABELS[pair['b']]}*."
    counted = " · ".join(f"{messages.CHOICE_LABELS[c]}: {n}" for c, n in counts.items())
    outcome = OUTCOMES[state.get("outcome")]
    blocks: list[Block] = [
        HeaderBlock(text="Voting closed"),
        problem_block(state),
        DividerBlock(),
        *answer_blocks(state),
        DividerBlock(),
        SectionBlock(
            block_id=ids.BLOCK_RESULT,
            text=MarkdownTextObject(
                text=f"{authors}\n*Outcome:* {outcome} ({counted}; {voters} voter"
                f"{'' if voters == 1 else 's'}).\n{reranker_line(state)}"
            ),
        ),
        ContextBlock(block_id=ids.BLOCK_TALLY, elements=[MarkdownTextObject(text=closed)]),
    ]
    text = f"Voting closed: {outcome}. {authors}"
    return text, [b.to_dict() for b in blocks]
