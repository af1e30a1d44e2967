"""The generation's progress streamed into the thread of its message (chat.startStream /
appendStream / stopStream): through the real Bolt app and the Slack Web API test server, the
chunks' builders, and the test server's own checks of the methods' arguments."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.messages.chunk import Chunk

from bot import ids
from bot.blocks import stream
from coderank.agents.prompts import AGENTS, LABELS
from harness.fakes import fake_agents, slow_agents
from harness.running_bot import start_bot
from harness.slack_server import SlackApiServer
from harness.slack_streams import Stream
from harness.slack_text import text_of
from tests.bot.test_flow import closed_message

CHANNEL = "C0GENERAL"
TASKS = {*AGENTS, stream.RERANKER}


def stopped_stream(slack: SlackApiServer, ts: str) -> Stream:
    """The one stream in the thread of message ``ts``, once it is stopped."""

    def ended() -> Stream | None:
        found = slack.streams.in_thread(CHANNEL, ts)
        return found[0] if found and found[0].stopped else None

    result: Stream = slack.wait_for(ended)
    assert len(slack.streams.in_thread(CHANNEL, ts)) == 1
    return result


def streamed(slack: SlackApiServer) -> str:
    """Everything the bot sent to the three stream methods, as JSON."""
    methods = ("chat.startStream", "chat.appendStream", "chat.stopStream")
    return json.dumps([c.params for m in methods for c in slack.calls_of(m)])


def test_the_generation_is_streamed_into_the_thread_of_its_message(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    running = start_bot(tmp_path, slack, agents=slow_agents(0.3, 0.6, 0.9))
    try:
        running.send.command("Write a function f(n) that returns n")
        cid, ts, message = running.vote_message()
        posted = slack.calls_of("chat.postMessage")[0]
        assert "generating 3 answers" in text_of(posted.params).lower()
        thread = stopped_stream(slack, ts)
        # In the thread of the progress message (which became the vote), for the requester.
        assert (thread.channel, thread.thread_ts) == (CHANNEL, ts)
        assert (thread.recipient_user_id, thread.recipient_team_id) == ("U0ALICE", "T0TEST")
        assert thread.task_display_mode == "plan"
        (start,) = slack.calls_of("chat.startStream")
        assert start.at < min(c.at for c in slack.calls_of("chat.update"))  # from the start
        # One task per agent and one for the reranker, each going on until it is done.
        tasks = thread.tasks()
        assert set(tasks) == TASKS
        assert all(tasks[agent] == ["in_progress", "complete"] for agent in AGENTS)
        assert tasks[stream.RERANKER] == ["pending", "in_progress", "complete"]
        titles = {c["id"]: c["title"] for c in thread.chunks if c["type"] == "task_update"}
        assert titles == {**{a: LABELS[a] for a in AGENTS}, "reranker": stream.TITLES["reranker"]}
        assert "Answers **A** and **B** are in the message above" in thread.text()
        # No answer is ever streamed, nor which agent is A or B: the vote stays blind.
        sent = streamed(slack)
        for i in range(3):
            assert f"x = {i}" not in sent  # slow_agents' answers
        assert "written by" not in sent and "Answer A" not in sent
        assert "x = " in text_of(message)  # the answers are in the vote message instead
        assert len(slack.calls_of("chat.stopStream")) == 1
        assert running.core.comparisons.get(cid).voting
    finally:
        running.stop()


def test_a_failed_generation_ends_its_stream_with_the_reason(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    agents = fake_agents(failing=["concise_fixer", "explainer"])
    running = start_bot(tmp_path, slack, agents=agents)
    try:
        running.send.command("Write f")
        posted = slack.wait_for(lambda: slack.calls_of("chat.postMessage"))[0]
        ts = next(ts for (ch, ts) in slack.messages if ch == CHANNEL)
        assert posted.params["channel"] == CHANNEL
        thread = stopped_stream(slack, ts)
        tasks = thread.tasks()
        assert tasks["concise_fixer"][-1] == tasks["explainer"][-1] == "error"
        assert tasks["optimizer"][-1] == "complete"
        assert tasks[stream.RERANKER][-1] == "error"
        assert "could not be made" in thread.text()
        slack.wait_for(lambda: "could not be made" in text_of(slack.messages[(CHANNEL, ts)]))
    finally:
        running.stop()


def test_a_workspace_that_refuses_streams_still_gets_its_comparisons(
    tmp_path: Path, slack: SlackApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    slack.streams.refuse("chat.startStream", "not_allowed_token_type")
    caplog.set_level(logging.WARNING, logger="bot.streams")
    running = start_bot(tmp_path, slack)
    try:
        running.send.command("Write f")
        cid, ts, _ = running.vote_message()
        running.send.click(ids.VOTE_A, cid, user="U0BOB", channel=CHANNEL, message_ts=ts)
        slack.wait_for(lambda: "1 person has voted." in text_of(slack.messages[(CHANNEL, ts)]))
        running.send.click(ids.CLOSE_VOTING, cid, user="U0ALICE", channel=CHANNEL, message_ts=ts)
        assert "*Outcome:* Answer A is better" in text_of(closed_message(running, ts))
        # A second comparison: no stream is tried again, and nothing more is logged.
        running.send.command("Write g", channel="C0OTHER")
        running.vote_message("C0OTHER")
        assert len(slack.calls_of("chat.startStream")) == 1
        assert not slack.calls_of("chat.appendStream") and not slack.calls_of("chat.stopStream")
        assert slack.streams.streams == {}
        warnings = [r for r in caplog.records if r.name == "bot.streams"]
        assert len(warnings) == 1 and "not_allowed_token_type" in warnings[0].getMessage()
    finally:
        running.stop()


def test_a_passing_failure_skips_one_stream_only(tmp_path: Path, slack: SlackApiServer) -> None:
    slack.streams.refuse("chat.startStream", "internal_error", times=1)
    running = start_bot(tmp_path, slack)
    try:
        running.send.command("Write f")
        _, first, _ = running.vote_message()
        running.send.command("Write g", channel="C0OTHER")
        _, second, _ = running.vote_message("C0OTHER")
        assert slack.streams.in_thread(CHANNEL, first) == []
        (thread,) = slack.wait_for(lambda: slack.streams.in_thread("C0OTHER", second))
        slack.wait_for(lambda: thread.stopped)
    finally:
        running.stop()


def test_streaming_can_be_turned_off(tmp_path: Path, slack: SlackApiServer) -> None:
    running = start_bot(tmp_path, slack, env={"SLACK_STREAM_PROGRESS": "off"})
    try:
        running.send.command("Write f")
        running.vote_message()
        assert slack.calls_of("chat.startStream") == []
    finally:
        running.stop()


# --- the chunks -------------------------------------------------------------------------------


def test_tasks_follow_the_generation_and_only_changes_are_streamed() -> None:
    assert stream.generating({}) == {**dict.fromkeys(AGENTS, "in_progress"), "reranker": "pending"}
    assert set(stream.generating({}, queued=True).values()) == {"pending"}
    done = {"concise_fixer": True, "explainer": False, "optimizer": True}
    assert stream.generating(done) == {
        "concise_fixer": "complete",
        "explainer": "error",
        "optimizer": "complete",
        "reranker": "in_progress",
    }
    assert stream.chosen(done)["reranker"] == "complete"
    assert stream.failed({"optimizer": "complete", "explainer": "in_progress"}) == {
        "concise_fixer": "error",
        "explainer": "error",
        "optimizer": "complete",
        "reranker": "error",
    }
    before, after = stream.generating({}), stream.generating({"explainer": True})
    (changed,) = stream.task_chunks(before, after)
    assert changed == {
        "type": "task_update",
        "id": "explainer",
        "title": "Explainer",
        "status": "complete",
        "output": "Answered.",
    }
    opening = stream.opening_chunks(before)
    assert [c["type"] for c in opening] == ["plan_update", *["task_update"] * 4]
    for chunk in [*opening, changed, stream.text_chunk("done")]:
        parsed = Chunk.parse(chunk)
        assert parsed is not None and parsed.to_dict() == chunk  # as slack_sdk models it


# --- the test server checks the arguments as Slack does ---------------------------------------


def test_the_test_server_checks_the_stream_methods_arguments(slack: SlackApiServer) -> None:
    client = WebClient(token=slack.token, base_url=slack.api_url)

    def refused(method: str, **params: object) -> str:
        with pytest.raises(SlackApiError) as info:
            client.api_call(method, json=params)
        return str(info.value.response["error"])

    user = {"recipient_user_id": "U1", "recipient_team_id": "T1"}
    assert refused("chat.startStream", channel=CHANNEL, **user) == "invalid_arguments"  # thread_ts
    assert refused("chat.startStream", thread_ts="1.1", **user) == "invalid_arguments"  # channel
    # In a channel a stream is for one user of one team; in a DM it need not say.
    assert refused("chat.startStream", channel=CHANNEL, thread_ts="1.1") == "invalid_arguments"
    assert client.chat_startStream(channel="D0ALICE", thread_ts="1.1")["ok"]
    bad = {"type": "task_update", "id": "t", "title": "T", "status": "done"}
    assert refused("chat.startStream", channel=CHANNEL, thread_ts="1.1", chunks=[bad], **user) == (
        "invalid_chunks"
    )
    ts = client.chat_startStream(channel=CHANNEL, thread_ts="1.1", markdown_text="Hi", **user)["ts"]
    assert refused("chat.appendStream", channel=CHANNEL, ts=ts) == "invalid_arguments"  # no text
    assert refused("chat.appendStream", channel=CHANNEL, markdown_text="x") == "invalid_arguments"
    assert refused("chat.stopStream", ts=ts) == "invalid_arguments"  # channel
    assert refused("chat.appendStream", channel=CHANNEL, ts="9.9", markdown_text="x") == (
        "message_not_found"
    )
    assert refused("chat.appendStream", channel=CHANNEL, ts=ts, markdown_text="x" * 12_001) == (
        "msg_too_long"
    )
    task = {"type": "task_update", "id": "t", "title": "T", "status": "in_progress"}
    assert client.chat_appendStream(channel=CHANNEL, ts=ts, chunks=[task])["ok"]
    assert client.chat_stopStream(channel=CHANNEL, ts=ts, markdown_text=" bye")["ok"]
    assert refused("chat.appendStream", channel=CHANNEL, ts=ts, markdown_text="x") == (
        "message_not_in_streaming_state"
    )
    recorded = slack.streams.streams[(CHANNEL, ts)]
    assert recorded.thread_ts == "1.1" and recorded.stopped
    assert recorded.text() == "Hi bye" and recorded.tasks() == {"t": ["in_progress"]}
