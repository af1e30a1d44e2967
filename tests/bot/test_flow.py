"""The whole Slack flow through the real Bolt app over signed HTTP requests."""

from __future__ import annotations

from typing import Any

from bot import ids
from coderank.store import FEEDBACK, RESPONSES
from harness.running_bot import RunningBot
from harness.slack_text import text_of


def closed_message(bot: RunningBot, ts: str, channel: str = "C0GENERAL") -> dict[str, Any]:
    """Wait until the comparison's message shows that voting closed; returns it."""
    messages = bot.slack.messages
    return bot.slack.wait_for(
        lambda: "Voting closed" in text_of(messages[(channel, ts)]) and messages[(channel, ts)]
    )


def test_command_to_closed_vote(bot: RunningBot) -> None:
    slack = bot.slack
    acked = bot.send.command("Write a function f(n) that returns n")
    assert acked.status == 200
    assert acked.seconds < 3
    cid, ts, message = bot.vote_message()
    first_post = slack.calls_of("chat.postMessage")[0].params
    assert "<@U0ALICE> asked" in text_of(first_post)
    assert "generating 3 answers" in text_of(first_post).lower()
    shown = text_of(message)
    assert "Answer A" in shown and "Answer B" in shown and "```" in shown
    answers = [b for b in message["blocks"] if b["type"] == "rich_text"]
    assert {b["block_id"] for b in answers} == {ids.BLOCK_ANSWER_A, ids.BLOCK_ANSWER_B}
    code = [e for b in answers for e in b["elements"] if e["type"] == "rich_text_preformatted"]
    assert code and all(e["language"] == "python" for e in code)  # highlighted as Python
    assert "No votes yet" in shown
    for label in ("Concise Fixer", "Explainer", "Optimizer"):
        assert label not in shown  # blind until voting closes

    click = bot.send.click(
        ids.VOTE_A, cid, user="U0BOB", channel="C0GENERAL", message_ts=ts, response_name="bob"
    )
    assert click.status == 200 and click.seconds < 3
    (confirmation,) = slack.wait_for(lambda: slack.responses_to("bob"))
    assert confirmation["text"] == "You voted A; you can change your vote until voting closes."
    assert confirmation["response_type"] == "ephemeral"
    slack.wait_for(lambda: "1 person has voted." in text_of(slack.messages[("C0GENERAL", ts)]))
    assert "U0BOB" not in text_of(slack.messages[("C0GENERAL", ts)])  # who voted what stays hidden

    bot.send.click(
        ids.CLOSE_VOTING,
        cid,
        user="U0BOB",
        channel="C0GENERAL",
        message_ts=ts,
        response_name="bob-close",
    )
    (refusal,) = slack.wait_for(lambda: slack.responses_to("bob-close"))
    assert refusal["text"] == "Only <@U0ALICE> (who asked) or a CodeRank admin can close voting."

    bot.send.click(ids.CLOSE_VOTING, cid, user="U0ALICE", channel="C0GENERAL", message_ts=ts)
    closed = closed_message(bot, ts)
    shown = text_of(closed)
    assert "Answer A was written by *" in shown
    assert "*Outcome:* Answer A is better (A: 1 · B: 0 · Tie: 0 · Both bad: 0; 1 voter)" in shown
    assert "The reranker" in shown and "Voting closed by <@U0ALICE>." in shown
    assert not any(b.get("block_id") == ids.BLOCK_VOTES for b in closed["blocks"])

    bot.send.click(
        ids.VOTE_B, cid, user="U0CAROL", channel="C0GENERAL", message_ts=ts, response_name="late"
    )
    (late,) = slack.wait_for(lambda: slack.responses_to("late"))
    assert late["text"] == "Voting on this comparison is closed."

    store = bot.core.store
    assert store.count(RESPONSES, {"comparison_id": cid}) == 3
    (vote,) = store.find(FEEDBACK, {"comparison_id": cid})
    assert (vote["user"], vote["choice"], vote["source"]) == ("U0BOB", "A", "slack")
