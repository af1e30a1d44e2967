"""Vote buttons under load, retries, signatures, restarts, long answers and rate limits."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot import ids
from coderank.store import FEEDBACK
from harness.fakes import fake_agents
from harness.running_bot import RunningBot, start_bot
from harness.slack_server import SlackApiServer
from harness.slack_text import text_of

CHANNEL = "C0GENERAL"


def started(bot: RunningBot) -> tuple[str, str]:
    bot.send.command("Write f")
    cid, ts, _ = bot.vote_message()
    return cid, ts


@pytest.fixture
def paced(tmp_path: Path, slack: SlackApiServer, store_env: dict[str, str]) -> Iterator[RunningBot]:
    """The bot at the default pace of one update of a message a second."""
    running = start_bot(tmp_path, slack, env={**store_env, "SLACK_UPDATE_INTERVAL_S": "1"})
    yield running
    running.stop()


def test_fifty_concurrent_clicks_are_all_acked_and_stored(paced: RunningBot) -> None:
    bot = paced
    cid, ts = started(bot)
    choices = [ids.VOTE_A, ids.VOTE_B, ids.VOTE_TIE, ids.VOTE_BOTH_BAD]
    began = time.monotonic()
    with ThreadPoolExecutor(50) as pool:
        clicks = list(
            pool.map(
                lambda i: bot.send.click(
                    choices[i % 4],
                    cid,
                    user=f"U{i:03d}",
                    channel=CHANNEL,
                    message_ts=ts,
                    response_name=f"u{i}",
                ),
                range(50),
            )
        )
    assert all(c.status == 200 and c.seconds < 3 for c in clicks)
    bot.slack.wait_for(
        lambda: len([r for r in bot.slack.responses if r["_name"].startswith("u")]) == 50
    )
    assert bot.core.store.count(FEEDBACK, {"comparison_id": cid}) == 50
    assert len(bot.core.comparisons.get(cid).votes) == 50
    bot.slack.wait_for(
        lambda: "50 people have voted." in text_of(bot.slack.messages[(CHANNEL, ts)])
    )
    elapsed = time.monotonic() - began
    updates = [
        c for c in bot.slack.calls_of("chat.update") if c.params["ts"] == ts and c.at >= began
    ]
    assert len(updates) <= elapsed + 2, "tally updates of one message are coalesced to ~1/s"
    gaps = [b.at - a.at for a, b in itertools.pairwise(updates)]
    assert all(gap >= 0.75 for gap in gaps), gaps  # ~1 s apart; arrival jitter on a busy box


def test_changing_a_vote_replaces_it_and_repeating_it_changes_nothing(bot: RunningBot) -> None:
    cid, ts = started(bot)
    for choice, name in ((ids.VOTE_A, "first"), (ids.VOTE_B, "second"), (ids.VOTE_B, "third")):
        bot.send.click(
            choice, cid, user="U0BOB", channel=CHANNEL, message_ts=ts, response_name=name
        )
        bot.slack.wait_for(lambda n=name: bot.slack.responses_to(n))
    assert bot.slack.responses_to("third")[0]["text"].startswith("Your vote is already B")
    (vote,) = bot.core.store.find(FEEDBACK, {"comparison_id": cid})
    assert vote["choice"] == "B"


def test_a_retried_click_records_nothing_twice(bot: RunningBot) -> None:
    cid, ts = started(bot)
    first = bot.send.click_body(
        ids.VOTE_A,
        cid,
        user="U0BOB",
        channel=CHANNEL,
        message_ts=ts,
        action_ts="1700000001.000100",
        response_name="a",
    )
    bot.send.post(first)
    bot.slack.wait_for(lambda: bot.slack.responses_to("a"))
    bot.send.click(ids.VOTE_B, cid, user="U0BOB", channel=CHANNEL, message_ts=ts, response_name="b")
    bot.slack.wait_for(lambda: bot.slack.responses_to("b"))
    # Slack redelivers the first click after the second: it must not turn the vote back to A.
    assert bot.send.post(first, retry_num=1).status == 200
    assert bot.settled() == 4  # the command, the two clicks and the redelivery
    assert len(bot.slack.responses_to("a")) == 1
    assert bot.core.comparisons.get(cid).votes == {"U0BOB": "B"}


def test_forged_and_stale_requests_get_401_and_nothing_runs(bot: RunningBot) -> None:
    body = bot.send.command_body("Write f")
    assert bot.send.post(body, signature="v0=" + "0" * 64).status == 401
    assert bot.send.post(body, timestamp=int(time.time()) - 6 * 60).status == 401
    other = bot.send.click_body(
        ids.VOTE_A, "c-any", user="U0BOB", channel=CHANNEL, message_ts="1.0"
    )
    assert bot.send.post(other, signature="v0=deadbeef").status == 401
    # Bolt hands a request to its listener before it answers; refused, none was started.
    assert bot.settled() == 0
    assert bot.slack.calls_of("chat.postMessage") == []
    assert bot.slack.responses == []


def test_a_comparison_posted_before_a_restart_takes_votes_after_it(
    tmp_path: Path, slack: SlackApiServer, store_env: dict[str, str]
) -> None:
    first = start_bot(tmp_path, slack, env=store_env)
    cid, ts = started(first)
    first.stop()
    second = start_bot(tmp_path, slack, env=store_env)
    try:
        second.send.click(
            ids.VOTE_B, cid, user="U0BOB", channel=CHANNEL, message_ts=ts, response_name="after"
        )
        (confirmation,) = slack.wait_for(lambda: slack.responses_to("after"))
        assert confirmation["text"].startswith("You voted B")
        slack.wait_for(lambda: "1 person has voted." in text_of(slack.messages[(CHANNEL, ts)]))
        assert second.core.store.count(FEEDBACK, {"comparison_id": cid}) == 1
    finally:
        second.stop()


def test_long_answers_are_cut_with_a_button_that_shows_the_whole(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    body = "\n".join(f"    total += {i}  # step {i} of a long loop" for i in range(300))
    long_text = f"```python\ndef long():\n    total = 0\n{body}\n    return total\n```\nThe end."
    agents = fake_agents(
        {"concise_fixer": long_text, "explainer": long_text, "optimizer": long_text}
    )
    running = start_bot(tmp_path, slack, agents=agents)
    try:
        cid, ts = started(running)
        message = slack.messages[(CHANNEL, ts)]
        answers = [
            b
            for b in message["blocks"]
            if b.get("block_id") in (ids.BLOCK_ANSWER_A, ids.BLOCK_ANSWER_B)
        ]
        assert len(answers) == 2
        for answer in answers:
            shown = text_of({"blocks": [answer]})
            assert len(shown) <= 3000 + 100 and shown.endswith("…")  # the answer, its heading
            assert "step 299" not in shown and shown.count("```") % 2 == 0
        buttons = next(b for b in message["blocks"] if b.get("block_id") == ids.BLOCK_SHOW_FULL)
        assert [e["action_id"] for e in buttons["elements"]] == [ids.SHOW_FULL_A, ids.SHOW_FULL_B]
        running.send.click(ids.SHOW_FULL_A, cid, user="U0BOB", channel=CHANNEL, message_ts=ts)
        (opened,) = slack.wait_for(lambda: slack.calls_of("views.open"))
        view = opened.params["view"]
        assert view["title"]["text"] == "Answer A"
        whole = text_of({"blocks": view["blocks"]})
        assert "step 299 of a long loop" in whole and "The end." in whole
        assert all(len(text_of({"blocks": [b]})) <= 3000 + 100 for b in view["blocks"])
    finally:
        running.stop()


def test_rate_limited_updates_are_retried_after_retry_after(bot: RunningBot) -> None:
    cid, ts = started(bot)
    # 2 s, not 1: a retry after a fixed second (slack_sdk's wait without the header) must fail.
    retry_after = 2
    bot.slack.rate_limit("chat.update", times=1, retry_after=retry_after)
    bot.send.click(ids.VOTE_A, cid, user="U0BOB", channel=CHANNEL, message_ts=ts)
    bot.slack.wait_for(lambda: "1 person has voted." in text_of(bot.slack.messages[(CHANNEL, ts)]))
    statuses = [c for c in bot.slack.calls_of("chat.update") if c.params["ts"] == ts]
    assert len(statuses) >= 2
    (refused,) = [c for c in statuses if c.status == 429]
    retried = statuses[statuses.index(refused) + 1]
    assert retried.status == 200 and retried.params["text"] == refused.params["text"]
    assert retried.at - refused.at >= retry_after, "the retry waited for Retry-After"
    assert "1 person has voted." in text_of(retried.params)  # the retry showed the vote


def test_an_admin_may_close_someone_elses_comparison(bot: RunningBot) -> None:
    cid, ts = started(bot)
    bot.send.click(ids.CLOSE_VOTING, cid, user="U0ADMIN", channel=CHANNEL, message_ts=ts)
    bot.slack.wait_for(
        lambda: "Voting closed by <@U0ADMIN>." in text_of(bot.slack.messages[(CHANNEL, ts)])
    )
    assert "no votes" in text_of(bot.slack.messages[(CHANNEL, ts)])


def test_voting_closes_by_itself_at_the_quorum(tmp_path: Path, slack: SlackApiServer) -> None:
    running = start_bot(tmp_path, slack, env={"VOTE_QUORUM": "2"})
    try:
        cid, ts = started(running)
        for user in ("U0BOB", "U0CAROL"):
            running.send.click(ids.VOTE_B, cid, user=user, channel=CHANNEL, message_ts=ts)
        slack.wait_for(lambda: "enough people voted" in text_of(slack.messages[(CHANNEL, ts)]))
        shown = text_of(slack.messages[(CHANNEL, ts)])
        assert "*Outcome:* Answer B is better" in shown and "2 voters" in shown
    finally:
        running.stop()
