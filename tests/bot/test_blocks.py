"""Pure Block Kit builders, validated by slack_sdk's models."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.modal import full_answer_view
from bot.blocks.progress import failed_message, progress_message
from bot.blocks.results import results_message
from bot.blocks.text import cut
from bot.blocks.vote import vote_message
from bot.failures import failure_text
from coderank.errors import GenerationError
from coderank.graph.state import comparison_of

OPEN = comparison_of(
    {
        "comparison_id": "c123",
        "problem": "Write f(n) <fast> & correct",
        "requester": "U0ALICE",
        "source": "slack",
        "answers": [
            {"agent": "concise_fixer", "text": "```python\nf = lambda n: n\n```", "error": None},
            {
                "agent": "explainer",
                "text": "```python\ndef f(n):\n    return n\n```\nIt returns n.",
                "error": None,
            },
            {"agent": "optimizer", "text": "```py\nf = int\n```", "error": None},
        ],
        "scores": {"concise_fixer": 0.2, "explainer": 0.7, "optimizer": 0.5},
        "reranker_model": "m1",
        "pair": {"a": "explainer", "b": "optimizer", "policy": "top2", "probability": 0.8},
        "votes": {"U1": "A", "U2": "A", "U3": "B"},
        "status": "voting",
    }
)


def parsed(blocks: list[dict]) -> list[Block]:
    return [Block.parse(b) for b in blocks]


def test_vote_message_is_blind_and_valid() -> None:
    text, blocks = vote_message(OPEN)
    assert [type(b).__name__ for b in parsed(blocks)][:2] == ["HeaderBlock", "SectionBlock"]
    flat = str(blocks)
    for label in ("Explainer", "Optimizer", "Concise Fixer", "explainer", "optimizer"):
        assert label not in flat
    assert "3 people have voted." in text
    buttons = next(b for b in blocks if b.get("block_id") == ids.BLOCK_VOTES)["elements"]
    assert [b["action_id"] for b in buttons] == [
        ids.VOTE_A, ids.VOTE_B, ids.VOTE_TIE, ids.VOTE_BOTH_BAD, ids.CLOSE_VOTING,
    ]  # fmt: skip
    assert {b["value"] for b in buttons} == {"c123"}  # the button carries the comparison id only
    assert "Write f(n) &lt;fast&gt; &amp; correct" in flat


def test_cut_closes_an_open_code_block_at_a_line_break() -> None:
    text = "```\n" + "\n".join(f"line {i}" for i in range(1000)) + "\n```"
    short, was_cut = cut(text, 500)
    assert was_cut and len(short) <= 500
    assert short.endswith("\n```\n…") and short.count("```") == 2
    assert cut("short", 500) == ("short", False)


def test_results_reveal_the_agents_tally_and_reranker() -> None:
    closed = replace(OPEN, status="closed", closed_by="U0ALICE", closed_how="requester")
    assert closed.outcome == "A" and closed.reranker_agrees
    _text, blocks = results_message(closed)
    parsed(blocks)
    flat = str(blocks)
    assert "Answer A was written by *Explainer*, answer B by *Optimizer*." in flat
    assert "A: 2 · B: 1 · Tie: 0 · Both bad: 0; 3 voters" in flat
    assert "The reranker agreed (scores: A 0.7000, B 0.5000; model `m1`)" in flat
    assert not any(b.get("block_id") == ids.BLOCK_VOTES for b in blocks)
    assert "Voting closed by <@U0ALICE>." in flat
    by_deadline = replace(closed, closed_by="time", closed_how="deadline")
    assert "its voting window ended" in str(results_message(by_deadline)[1])


def test_progress_shows_each_agent() -> None:
    _text, blocks = progress_message(
        requester="U0ALICE", problem="p", finished={"explainer": True, "optimizer": False}
    )
    parsed(blocks)
    assert "⏳ Concise Fixer · ✅ Explainer · ❌ Optimizer" in str(blocks)
    queued, _ = progress_message(requester="U0ALICE", problem="p", finished={}, queued_ahead=2)
    assert "Queued: number 2 in the queue" in queued


def test_the_full_answer_modal_keeps_every_line_in_valid_rich_text() -> None:
    answer = (
        "```python\n" + "\n".join(f"x{i} = {i}" + " " * 40 for i in range(400)) + "\n```\nDone."
    )
    view = full_answer_view("B", answer)
    View(**view).validate_json()
    assert all(b["type"] == "rich_text" for b in view["blocks"])
    texts = [e["elements"][0]["text"] for b in view["blocks"] for e in b["elements"]]
    assert all(len(t) <= 3000 for t in texts)
    joined = "\n".join(texts)
    assert all(f"x{i} = {i}" in joined for i in range(400)) and joined.endswith("Done.")


def test_an_error_quoting_an_endpoint_is_shown_in_slack_never_sent_as_a_mention() -> None:
    said = "every agent failed: 400 <!channel> <@U0BOSS> <https://evil.example|click> & more"
    text, blocks = failed_message(requester="U0ALICE", problem="Write f", error=said)
    shown = [text, failure_text(GenerationError(said))]
    shown += [str(b["text"]["text"]) for b in blocks if "text" in b]
    for message in shown:
        assert "<!channel>" not in message and "<@U0BOSS>" not in message
        assert "<https://evil" not in message
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt;" in text and "&amp; more" in text
