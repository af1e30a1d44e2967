"""``GET /metrics`` and ``GET /readyz`` of the real bot over HTTP: the Prometheus text format,
parsed, counts what a comparison and its votes did; readiness follows the Astra store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot import ids
from coderank.agents.prompts import AGENTS
from harness.data_api_server import DataApiServer
from harness.fakes import fake_agents, slow_agents
from harness.running_bot import RunningBot, start_bot
from harness.servers import http_get
from harness.slack_server import SlackApiServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(bot: RunningBot) -> Samples:
    """Every sample of ``/metrics``: (name, sorted labels) -> value."""
    status, body = http_get(f"{bot.url}/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_count_a_comparison_its_votes_and_its_close(bot: RunningBot) -> None:
    before = scrape(bot)
    assert value(before, "coderank_comparisons_started_total") == 0
    assert value(before, "coderank_comparisons_closed_total", how="requester") == 0

    assert bot.send.command("Write a function f(n) that returns n").status == 200
    cid, ts, _ = bot.vote_message()
    for user, choice in (("U0BOB", ids.VOTE_A), ("U0CAROL", ids.VOTE_B), ("U0BOB", ids.VOTE_B)):
        click = bot.send.click(choice, cid, user=user, channel="C0GENERAL", message_ts=ts)
        assert click.status == 200
    bot.settled()
    bot.send.click(ids.CLOSE_VOTING, cid, user="U0ALICE", channel="C0GENERAL", message_ts=ts)
    bot.settled()

    after = scrape(bot)
    assert value(after, "coderank_comparisons_started_total") == 1
    assert value(after, "coderank_votes_total") == 3  # Bob's changed vote counts too
    assert value(after, "coderank_comparisons_closed_total", how="requester") == 1
    assert value(after, "coderank_comparisons_closed_total", how="quorum") == 0
    for reason in ("too_few_answers", "model_unavailable", "error"):
        assert value(after, "coderank_comparisons_failed_total", reason=reason) == 0
    for agent in AGENTS:
        assert value(after, "coderank_generation_seconds_count", agent=agent) == 1
        assert value(after, "coderank_generation_seconds_sum", agent=agent) > 0
        assert value(after, "coderank_agent_answers_total", agent=agent, outcome="ok") == 1
    assert value(after, "coderank_generation_queue_depth") == 0
    assert value(after, "coderank_generations_running") == 0
    ran = sum(v for (name, _), v in after.items() if name == "coderank_sandbox_runs_total")
    if bot.core.executor.why_off() is None:  # each answer ran; the problem has no examples
        assert ran == len(AGENTS)
        assert value(after, "coderank_sandbox_runs_total", outcome="no_checks") == len(AGENTS)
        assert value(after, "coderank_sandbox_seconds_count") == len(AGENTS)
    else:
        assert ran == 0
    assert value(after, "coderank_finetunes_total", outcome="promoted") == 0


def test_a_comparison_with_too_few_answers_counts_as_failed(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    bot = start_bot(tmp_path, slack, agents=fake_agents(failing=["explainer", "optimizer"]))
    try:
        bot.send.command("Write a function f(n) that returns n")
        slack.wait_for(lambda: _failed(bot))
        samples = scrape(bot)
        assert value(samples, "coderank_comparisons_failed_total", reason="too_few_answers") == 1
        assert value(samples, "coderank_agent_answers_total", agent="optimizer", outcome="failed")
    finally:
        bot.stop()


def _failed(bot: RunningBot) -> bool:
    return value(scrape(bot), "coderank_comparisons_failed_total", reason="too_few_answers") > 0


def test_the_queue_depth_is_read_at_each_scrape(tmp_path: Path, slack: SlackApiServer) -> None:
    bot = start_bot(tmp_path, slack, agents=slow_agents(1.5), env={"GEN_WORKERS": "1"})
    try:
        for channel in ("C0ONE", "C0TWO"):
            sent = bot.send.command("Write a function f(n) that returns n", channel=channel)
            assert sent.status == 200
        bot.settled()  # both listeners have queued their generation
        busy = scrape(bot)
        assert value(busy, "coderank_generations_running") == 1
        assert value(busy, "coderank_generation_queue_depth") == 1
        bot.vote_message("C0TWO", timeout_s=60)  # both generated
        idle = slack.wait_for(
            lambda: (now := scrape(bot))["coderank_generations_running", ()] == 0 and now
        )
        assert value(idle, "coderank_generation_queue_depth") == 0
    finally:
        bot.stop()


def test_slack_api_errors_and_429s_are_counted(bot: RunningBot) -> None:
    client = bot.app.client
    bot.slack.not_in_channels.add("C0ELSEWHERE")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0ELSEWHERE", text="hello")
    bot.slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    client.chat_postMessage(channel="C0GENERAL", text="hello")  # waited out, then sent
    samples = scrape(bot)
    errors = "coderank_slack_api_errors_total"
    assert value(samples, errors, method="chat.postMessage", error="not_in_channel") == 1
    assert value(samples, "coderank_slack_api_rate_limited_total", method="chat.postMessage") == 1


@pytest.fixture
def astra_bot(tmp_path: Path, slack: SlackApiServer, astra: DataApiServer) -> Iterator[RunningBot]:
    env = {
        "STORE": "astra",
        "ASTRA_DB_API_ENDPOINT": astra.endpoint,
        "ASTRA_DB_APPLICATION_TOKEN": astra.token,
        "ASTRA_RETRY_BUDGET_S": "1",
    }
    running = start_bot(tmp_path, slack, env=env)
    yield running
    running.stop()


def ready(bot: RunningBot) -> tuple[int, dict[str, object]]:
    status, body = http_get(f"{bot.url}/readyz", timeout_s=15)
    assert body.endswith("\n") and "\n" not in body[:-1]
    return status, json.loads(body)


def wait_ready(bot: RunningBot, status: int, *, timeout_s: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        got, report = ready(bot)
        if got == status:
            return report
        assert time.monotonic() < deadline, f"/readyz still {got}: {report}"
        time.sleep(0.2)


def test_readyz_follows_the_astra_store(astra_bot: RunningBot, astra: DataApiServer) -> None:
    assert ready(astra_bot) == (
        200,
        {"ready": True, "checks": {"model": "ok", "store": "ok"}},
    )
    astra.stop()
    started = time.monotonic()
    status, report = ready(astra_bot)
    assert status == 503 and time.monotonic() - started < 10
    checks = report["checks"]
    assert report["ready"] is False and isinstance(checks, dict)
    assert checks["store"] != "ok" and "ASTRA_DB_API_ENDPOINT" in checks["store"]
    assert astra.token not in json.dumps(report)
    assert http_get(f"{astra_bot.url}/healthz")[0] == 200  # alive all the same

    astra.start()  # back, on the same port
    report = wait_ready(astra_bot, 200)
    assert report == {"ready": True, "checks": {"model": "ok", "store": "ok"}}
