"""The vote message: the problem, answers A and B, and the vote buttons (blind)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.blocks.answers import answer_block
from bot.blocks.text import escape, quote
from coderank.models import Comparison

PROBLEM_LIMIT = 2500
# Characters of each answer shown in the message; the rest is in the *Show full answer* modal.
# Slack refuses a message whose blocks hold much more than 12,000 characters in all
# (msg_blocks_too_long): the problem and two answers stay well under it.
ANSWER_LIMIT = 3000


def problem_block(comparison: Comparison) -> SectionBlock:
    asked = f"<@{comparison.requester}> asked:\n{quote(comparison.problem, PROBLEM_LIMIT)}"
    return SectionBlock(block_id=ids.BLOCK_PROBLEM, text=MarkdownTextObject(text=asked))


def answer_blocks(comparison: Comparison) -> list[Block]:
    """Answer A and B as rich text (code highlighted as Python), each cut to ``ANSWER_LIMIT``
    characters, with *Show full answer* buttons for cut ones. The blocks name no agent."""
    cid = comparison.comparison_id
    shown = comparison.shown()
    blocks: list[Block] = []
    buttons = []
    for label, block_id, action_id in (
        ("A", ids.BLOCK_ANSWER_A, ids.SHOW_FULL_A),
        ("B", ids.BLOCK_ANSWER_B, ids.SHOW_FULL_B),
    ):
        block, was_cut = answer_block(
            shown[label].text, heading=f"Answer {label}", limit=ANSWER_LIMIT, block_id=block_id
        )
        blocks.append(block)
        if was_cut:
            buttons.append(
                ButtonElement(text=f"Show full answer {label}", action_id=action_id, value=cid)
            )
    if buttons:
        blocks.append(ActionsBlock(block_id=ids.BLOCK_SHOW_FULL, elements=buttons))
    return blocks


def voters_text(voters: int) -> str:
    if voters == 0:
        return "No votes yet. Which answer is better?"
    return f"{voters} {'person has' if voters == 1 else 'people have'} voted."


def vote_message(
    comparison: Comparison, *, checks: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of an open comparison. Which agent wrote A or B is not shown;
    what running them showed only with ``checks`` (``CHECKS_WHILE_VOTING=on``: it steers votes)."""
    cid = comparison.comparison_id
    voters = comparison.voters
    ran = comparison.checks_text() if checks else ""
    blocks: list[Block] = [
        HeaderBlock(text="Which answer is better?"),
        problem_block(comparison),
        DividerBlock(),
        *answer_blocks(comparison),
        *(
            [ContextBlock(elements=[MarkdownTextObject(text=f"*Checks:* {escape(ran)}")])]
            if ran
            else []
        ),
        DividerBlock(),
        ContextBlock(
            block_id=ids.BLOCK_TALLY, elements=[MarkdownTextObject(text=voters_text(voters))]
        ),
        ActionsBlock(
            block_id=ids.BLOCK_VOTES,
            elements=[
                ButtonElement(text="A is better", action_id=ids.VOTE_A, value=cid, style="primary"),
                ButtonElement(text="B is better", action_id=ids.VOTE_B, value=cid, style="primary"),
                ButtonElement(text="Tie", action_id=ids.VOTE_TIE, value=cid),
                ButtonElement(text="Both bad", action_id=ids.VOTE_BOTH_BAD, value=cid),
                ButtonElement(
                    text="Close voting",
                    action_id=ids.CLOSE_VOTING,
                    value=cid,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Close voting?",
                        text="Votes can't be changed afterwards; the agents will be revealed.",
                        confirm="Close voting",
                        deny="Keep voting",
                    ),
                ),
            ],
        ),
    ]
    text = f"Which answer is better? {voters_text(voters)}"
    return text, [b.to_dict() for b in blocks]
