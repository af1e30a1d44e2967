"""Answers as rich text: code in ``rich_text_preformatted`` highlighted as Python, within Slack's
limits, every block valid for slack_sdk's models, and A and B still blind."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.answers import Segment, fit, pages, segments
from bot.blocks.modal import MAX_BLOCKS, PAGE_LIMIT, full_answer_view
from bot.blocks.results import results_message
from bot.blocks.vote import ANSWER_LIMIT, vote_message
from coderank.agents.prompts import AGENTS, LABELS
from coderank.graph.state import comparison_of
from harness.slack_text import text_of

MESSAGE_BLOCKS = 50  # Slack: at most 50 blocks in a message
# Slack refuses message blocks of about 13,000 characters and more (msg_blocks_too_long).
MESSAGE_CHARS = 12_000

ANSWER = (
    "Use a loop, `range` and **no recursion** (x < 2 & y > 3):\n\n"
    "```python\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
    "    return a\n```\n"
    "Run it:\n```bash\npython fib.py\n```\nDone."
)


def comparison(text_a: str, text_b: str, **changes: Any) -> Any:
    shown = {"explainer": text_a, "optimizer": text_b, "concise_fixer": "```python\nx = 1\n```"}
    return comparison_of(
        {
            "comparison_id": "c-rich",
            "problem": "Write fib(n)",
            "requester": "U0ALICE",
            "source": "slack",
            "answers": [{"agent": a, "text": t, "error": None} for a, t in shown.items()],
            "scores": {"concise_fixer": 0.2, "explainer": 0.7, "optimizer": 0.5},
            "reranker_model": "m1",
            "pair": {"a": "explainer", "b": "optimizer", "policy": "top2", "probability": 0.8},
            "votes": {"U1": "A"},
            "status": "voting",
            **changes,
        }
    )


def without_language(block: dict[str, Any]) -> dict[str, Any]:
    """``block`` as slack_sdk 3.48 models it: its rich_text_preformatted has no ``language``."""
    if block["type"] != "rich_text":
        return block
    elements = [{k: v for k, v in e.items() if k != "language"} for e in block["elements"]]
    return {**block, "elements": elements}


def assert_valid(blocks: list[dict[str, Any]]) -> None:
    """Each block parses as slack_sdk's model, validates, and is what that model sends, but for
    the ``language`` of code (which slack_sdk 3.48 does not model)."""
    for block in blocks:
        model = Block.parse(block)
        assert model is not None, block
        model.validate_json()
        assert model.to_dict() == without_language(block)


def answer_of(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == block_id)


def characters(block: dict[str, Any]) -> int:
    """Characters of text in a rich_text block."""
    return sum(len(t.get("text", "")) for e in block["elements"] for t in e["elements"])


def test_an_answer_splits_into_prose_and_code_runs() -> None:
    assert segments(ANSWER) == [
        Segment("Use a loop, `range` and **no recursion** (x < 2 & y > 3):"),
        Segment(
            "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
            "    return a",
            code=True,
            language="python",
        ),
        Segment("Run it:"),
        Segment("python fib.py", code=True, language=None),  # not Python: not highlighted as it
        Segment("Done."),
    ]
    assert segments("```\nx = 1\n```") == [Segment("x = 1", code=True, language="python")]
    # A generation cut off inside its code block: the code runs to the end.
    assert segments("Here:\n```py\ndef f():\n    return")[1] == Segment(
        "def f():\n    return", code=True, language="python"
    )
    assert segments("  \n\n") == []


def test_the_vote_shows_code_as_highlighted_python_and_prose_as_rich_text() -> None:
    _, blocks = vote_message(comparison(ANSWER, "Short: `f = int`"))
    assert_valid(blocks)
    a = answer_of(blocks, ids.BLOCK_ANSWER_A)
    assert a["type"] == "rich_text"
    kinds = [(e["type"], e.get("language")) for e in a["elements"]]
    assert kinds == [
        ("rich_text_section", None),  # the heading
        ("rich_text_section", None),
        ("rich_text_preformatted", "python"),
        ("rich_text_section", None),
        ("rich_text_preformatted", None),
        ("rich_text_section", None),
    ]
    heading, prose, code = a["elements"][:3]
    assert heading["elements"] == [{"type": "text", "text": "Answer A", "style": {"bold": True}}]
    assert {"type": "text", "text": "range", "style": {"code": True}} in prose["elements"]
    assert {"type": "text", "text": "no recursion", "style": {"bold": True}} in prose["elements"]
    # Rich text is plain text: nothing is escaped as mrkdwn would be.
    assert " (x < 2 & y > 3):" in [t["text"] for t in prose["elements"]]
    assert code["elements"] == [
        {
            "type": "text",
            "text": "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
            "        a, b = b, a + b\n    return a",
        }
    ]
    assert "```" not in str(a)  # no fence is shown as text
    assert not any(b.get("block_id") == ids.BLOCK_SHOW_FULL for b in blocks)  # nothing was cut


def test_a_very_long_answer_is_cut_within_slacks_limits_with_the_buttons() -> None:
    loop = "\n".join(f"    total += {i}  # step {i} of a long loop" for i in range(600))
    huge_line = "x = '" + "y" * 9000 + "'"
    long_answer = (
        "Prose first.\n"
        + "".join(
            f"```python\ndef f{k}():\n{loop}\n    return total\n```\nPart {k}.\n" for k in range(4)
        )
        + f"```python\n{huge_line}\n```"
    )
    for message in (
        vote_message(comparison(long_answer, long_answer)),
        results_message(comparison(long_answer, long_answer, status="closed", closed_by="U0ALICE")),
    ):
        _, blocks = message
        assert_valid(blocks)
        assert len(blocks) <= MESSAGE_BLOCKS
        for block_id in (ids.BLOCK_ANSWER_A, ids.BLOCK_ANSWER_B):
            answer = answer_of(blocks, block_id)
            assert characters(answer) <= len("Answer A") + ANSWER_LIMIT + len("…")
            last = answer["elements"][-1]
            assert last == {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": "…"}],
            }
            code = [e for e in answer["elements"] if e["type"] == "rich_text_preformatted"]
            assert code and code[-1]["elements"][0]["text"].endswith(
                "of a long loop"
            )  # a whole line
        assert len(text_of({"blocks": blocks})) < MESSAGE_CHARS
    buttons = answer_of(vote_message(comparison(long_answer, "short"))[1], ids.BLOCK_SHOW_FULL)
    assert [b["action_id"] for b in buttons["elements"]] == [ids.SHOW_FULL_A]


def test_a_and_b_stay_blind_in_the_vote_and_are_revealed_only_in_the_results() -> None:
    named = "I am the Explainer: ```python\nx = 1\n```"  # an answer's own words stay as written
    _, blocks = vote_message(comparison(ANSWER, ANSWER))
    flat = str(blocks)
    for agent in AGENTS:
        assert agent not in flat and LABELS[agent] not in flat
    _, closed = results_message(comparison(named, ANSWER, status="closed", closed_by="U0ALICE"))
    assert_valid(closed)
    assert "Answer A was written by *Explainer*" in text_of({"blocks": closed})


def test_the_modal_shows_the_rest_in_valid_rich_text_blocks() -> None:
    loop = "\n".join(f"    total += {i}  # step {i} of a long loop" for i in range(2000))
    answer = f"Intro.\n```python\ndef long():\n{loop}\n```\nThe end."
    view = full_answer_view("A", answer)
    View(**view).validate_json()
    assert_valid(view["blocks"])
    assert len(view["blocks"]) <= MAX_BLOCKS
    assert all(characters(b) <= PAGE_LIMIT for b in view["blocks"])
    code = [e for b in view["blocks"] for e in b["elements"] if e["type"] != "rich_text_section"]
    assert all(e["language"] == "python" for e in code)
    lines = "\n".join(e["elements"][0]["text"] for e in code).split("\n")
    assert lines == ["def long():", *loop.split("\n")]  # every line, whole and in order
    whole = text_of({"blocks": view["blocks"]}).strip()
    assert whole.startswith("Intro.") and whole.endswith("The end.")


def test_an_answer_longer_than_a_modal_holds_is_shown_up_to_it_and_says_so() -> None:
    answer = "```python\n" + "\n".join(f"v{i} = {i:09d}" + " " * 80 for i in range(5000)) + "\n```"
    view = full_answer_view("B", answer)
    View(**view).validate_json()
    assert len(view["blocks"]) == MAX_BLOCKS
    assert_valid(view["blocks"])
    note = view["blocks"][-1]
    assert note["type"] == "context"
    total = len(segments(answer)[0].text)
    assert f"of {total:,} characters are shown" in note["elements"][0]["text"]


def test_cutting_and_paging_keep_line_breaks_as_the_seams() -> None:
    runs = [Segment("one\ntwo\nthree", code=True, language="python")]
    assert fit(runs, 9) == ([replace(runs[0], text="one\ntwo")], True)
    assert fit(runs, 100) == (runs, False)
    assert [[r.text for r in page] for page in pages(runs, 8)] == [["one\ntwo"], ["three"]]
    # A line longer than a page is split where it must be.
    assert [[r.text for r in p] for p in pages([Segment("abcdefghij")], 4)] == [
        ["abcd"],
        ["efgh"],
        ["ij"],
    ]
