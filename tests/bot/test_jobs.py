"""Scheduled jobs and on-demand figures in the running bot: the voting window closes a vote and
updates its message, the weekly digest posts on its cron, ``/coderank-admin digest`` and
``/coderank stats``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bot import ids
from coderank.jobs.scheduler import CLOSE_DUE_JOB, Jobs
from coderank.store import COMPARISONS, EVALUATION_RESULTS, FEEDBACK
from harness.running_bot import RunningBot, start_bot
from harness.slack_server import SlackApiServer
from harness.slack_text import text_of
from tests.bot.test_flow import closed_message

SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(SUNDAY_NOON, tick=True) as traveller:
        yield traveller


def vote_and_wait(bot: RunningBot, cid: str, ts: str, user: str, action: str) -> None:
    bot.send.click(action, cid, user=user, channel="C0GENERAL", message_ts=ts, response_name=user)
    bot.slack.wait_for(lambda: bot.slack.responses_to(user))


def open_vote_with_deadline(bot: RunningBot) -> tuple[str, str]:
    """Ask for a comparison and wait until its vote message is up (its deadline is stored with
    it when voting opens)."""
    bot.send.command("Write a function f(n) that returns n")
    cid, ts, _ = bot.vote_message()
    assert bot.core.comparisons.get(cid).deadline is not None
    return cid, ts


def jobs_of(bot: RunningBot) -> Jobs:
    assert bot.services.jobs is not None
    return bot.services.jobs


def sweep(jobs: Jobs) -> None:
    """Run the due jobs now and wait until the closing job has run once more."""
    runs = jobs.ran.count(CLOSE_DUE_JOB)
    jobs.tick()
    deadline = time.monotonic() + 20
    while jobs.ran.count(CLOSE_DUE_JOB) <= runs:
        assert time.monotonic() < deadline, "the closing job did not run"
        time.sleep(0.02)


def test_voting_closes_by_itself_when_its_window_ends(
    tmp_path: Path, slack: SlackApiServer, clock: time_machine.Traveller
) -> None:
    bot = start_bot(tmp_path, slack, env={"VOTE_WINDOW_HOURS": "2"}, jobs=True)
    try:
        cid, ts = open_vote_with_deadline(bot)
        jobs = jobs_of(bot)
        stored = bot.core.store.get(COMPARISONS, cid)
        deadline = datetime.fromisoformat(stored["deadline"])
        assert timedelta(hours=2) <= deadline - SUNDAY_NOON < timedelta(hours=2, minutes=1)
        vote_and_wait(bot, cid, ts, "U0BOB", ids.VOTE_B)

        clock.move_to(SUNDAY_NOON + timedelta(hours=1))
        sweep(jobs)
        assert bot.core.comparisons.get(cid).voting
        assert "Voting closed" not in text_of(slack.messages[("C0GENERAL", ts)])

        clock.move_to(SUNDAY_NOON + timedelta(hours=2, minutes=2))
        sweep(jobs)
        shown = text_of(closed_message(bot, ts))
        assert "Voting closed: its voting window ended." in shown
        assert "*Outcome:* Answer B is better" in shown
        closed = bot.core.comparisons.get(cid)
        assert closed.closed and closed.closed_how == "deadline"
        assert bot.core.store.get(COMPARISONS, cid)["status"] == "closed"
        vote_and_wait(bot, cid, ts, "U0LATE", ids.VOTE_A)
        assert slack.responses_to("U0LATE")[0]["text"] == "Voting on this comparison is closed."
        assert [v["user"] for v in bot.core.store.find(FEEDBACK, {"comparison_id": cid})] == [
            "U0BOB"
        ]
    finally:
        bot.stop()


def test_a_vote_after_the_deadline_closes_it_even_before_the_job_runs(
    tmp_path: Path, slack: SlackApiServer, clock: time_machine.Traveller
) -> None:
    bot = start_bot(tmp_path, slack, env={"VOTE_WINDOW_HOURS": "2"})  # no process runs jobs
    try:
        cid, ts = open_vote_with_deadline(bot)
        vote_and_wait(bot, cid, ts, "U0BOB", ids.VOTE_A)
        clock.move_to(SUNDAY_NOON + timedelta(hours=3))
        vote_and_wait(bot, cid, ts, "U0LATE", ids.VOTE_B)
        assert slack.responses_to("U0LATE")[0]["text"] == "Voting on this comparison is closed."
        assert "Voting closed: its voting window ended." in text_of(closed_message(bot, ts))
        assert bot.core.comparisons.get(cid).votes == {"U0BOB": "A"}
    finally:
        bot.stop()


def test_a_comparison_closed_by_hand_stays_so_past_its_deadline(
    tmp_path: Path, slack: SlackApiServer, clock: time_machine.Traveller
) -> None:
    bot = start_bot(tmp_path, slack, env={"VOTE_WINDOW_HOURS": "2"}, jobs=True)
    try:
        cid, ts = open_vote_with_deadline(bot)
        jobs = jobs_of(bot)
        bot.send.click(ids.CLOSE_VOTING, cid, user="U0ALICE", channel="C0GENERAL", message_ts=ts)
        assert "Voting closed by <@U0ALICE>." in text_of(closed_message(bot, ts))
        clock.move_to(SUNDAY_NOON + timedelta(hours=3))
        sweep(jobs)
        assert bot.core.comparisons.get(cid).closed_how == "requester"
        assert "Voting closed by <@U0ALICE>." in text_of(slack.messages[("C0GENERAL", ts)])
    finally:
        bot.stop()


def test_a_comparison_started_on_the_command_line_is_closed_by_the_bots_jobs(
    tmp_path: Path, slack: SlackApiServer, clock: time_machine.Traveller
) -> None:
    bot = start_bot(tmp_path, slack, env={"VOTE_WINDOW_HOURS": "2"}, jobs=True)
    try:
        cli = bot.core.comparisons.start("Write g", requester="cli:alice", source="cli")
        bot.core.comparisons.vote(cli.comparison_id, user="cli:bob", choice="B")
        clock.move_to(SUNDAY_NOON + timedelta(hours=2, minutes=1))
        sweep(jobs_of(bot))
        closed = bot.core.comparisons.get(cli.comparison_id)
        assert closed.closed and closed.closed_how == "deadline" and closed.outcome == "B"
        assert not slack.calls_of("chat.postMessage")  # nothing to show in Slack
    finally:
        bot.stop()


def test_the_weekly_digest_posts_in_its_channel_on_the_cron(
    tmp_path: Path, slack: SlackApiServer, clock: time_machine.Traveller
) -> None:
    env = {"DIGEST_CHANNEL": "C0DIGEST", "DIGEST_CRON": "0 9 * * mon", "DIGEST_TZ": "UTC"}
    bot = start_bot(tmp_path, slack, env=env, jobs=True)
    try:
        bot.send.command("Write a function f(n) that returns n")
        cid, ts, _ = bot.vote_message()
        vote_and_wait(bot, cid, ts, "U0BOB", ids.VOTE_A)
        jobs = bot.services.jobs
        assert jobs is not None
        assert jobs.next_digest() == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        clock.move_to(datetime(2026, 11, 23, 9, 0, 1, tzinfo=UTC))
        jobs.tick()
        (post,) = slack.wait_for(
            lambda: [
                c for c in slack.calls_of("chat.postMessage") if c.params["channel"] == "C0DIGEST"
            ]
        )
        shown = text_of(post.params)
        assert "weekly digest" in shown.lower()
        assert "U0BOB" not in shown
        slack.wait_for(lambda: slack.calls_of("files.completeUploadExternal"))
        runs = list(bot.core.store.find(EVALUATION_RESULTS))
        assert [r["kind"] for r in runs] == ["digest"]
        assert jobs.next_digest() == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    finally:
        bot.stop()


def test_admin_digest_posts_now_and_only_for_admins(bot: RunningBot) -> None:
    slack = bot.slack
    refused = bot.send.command("digest", command="/coderank-admin", user="U0BOB")
    assert "Only CodeRank admins" in refused.body

    acked = bot.send.command(
        "digest", command="/coderank-admin", user="U0ADMIN", channel="C0GENERAL"
    )
    assert acked.status == 200 and acked.seconds < 3
    assert "Posting the CodeRank digest in <#C0GENERAL>" in acked.body
    (post,) = slack.wait_for(lambda: slack.calls_of("chat.postMessage"))
    assert post.params["channel"] == "C0GENERAL"
    assert "weekly digest" in text_of(post.params).lower()
    slack.wait_for(lambda: slack.calls_of("files.completeUploadExternal"))
    (done,) = slack.wait_for(lambda: [r for r in slack.responses if "posted" in r["text"]])
    assert done["text"] == "The CodeRank digest is posted in <#C0GENERAL>."
    assert done["response_type"] == "ephemeral"


def test_stats_shows_anyone_an_ephemeral_summary_of_closed_comparisons(bot: RunningBot) -> None:
    slack = bot.slack
    bot.send.command("Write a function f(n) that returns n", channel="C0ONE")
    closed_cid, closed_ts, _ = bot.vote_message("C0ONE")
    vote_and_wait_in(bot, closed_cid, closed_ts, "U0BOB", ids.VOTE_A, "C0ONE")
    bot.send.click(
        ids.CLOSE_VOTING, closed_cid, user="U0ALICE", channel="C0ONE", message_ts=closed_ts
    )
    closed_message(bot, closed_ts, channel="C0ONE")
    bot.send.command("Write a function g(n) that returns n", channel="C0TWO")
    open_cid, open_ts, _ = bot.vote_message("C0TWO")
    vote_and_wait_in(bot, open_cid, open_ts, "U0CAROL", ids.VOTE_B, "C0TWO")  # still open
    posts_before = len(slack.calls_of("chat.postMessage"))

    acked = bot.send.command("stats", user="U0CAROL")
    assert acked.status == 200 and acked.seconds < 3
    assert "Working out" in acked.body
    (summary,) = slack.wait_for(
        lambda: [r for r in slack.responses if "CodeRank so far" in r.get("text", "")]
    )
    assert summary["response_type"] == "ephemeral"
    shown = text_of(summary)
    # Only the closed comparison is counted: the open one's vote is not its outcome yet.
    assert "*Pairs judged:* 1 (1 with a majority for A or B)" in shown
    assert "feedback: 2" in shown and "comparisons: 2" in shown
    assert len(slack.calls_of("chat.postMessage")) == posts_before  # nothing in the channel


def vote_and_wait_in(
    bot: RunningBot, cid: str, ts: str, user: str, action: str, channel: str
) -> None:
    bot.send.click(action, cid, user=user, channel=channel, message_ts=ts, response_name=user)
    bot.slack.wait_for(lambda: bot.slack.responses_to(user))
