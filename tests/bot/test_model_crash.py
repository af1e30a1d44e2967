"""``python -m bot`` with the real embedded model: the model runs in its own process, so killing
it mid-generation fails only that comparison (with a message in its channel), the bot keeps
serving and the next ``/coderank`` works; a model that cannot start makes ``/healthz`` unhealthy
with the cause instead of a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.servers import (
    child_pids,
    free_port,
    http_get,
    model_socket,
    wait_until_generating,
)
from harness.settings import ROOT, make_env
from harness.slack_requests import SlackSender
from harness.slack_server import SlackApiServer

pytestmark = pytest.mark.slow
SECRET = "test-signing-secret-crash"
MODEL_SERVER = "coderank.agents.model_server"


class BotProcess:
    def __init__(self, tmp_path: Path, slack: SlackApiServer, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "bot.log"
        environ = {
            **os.environ,
            **make_env(tmp_path, VOTE_QUORUM="0", **env),
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(self.port),
        }
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=ROOT, env=environ, stderr=log
            )
        self.send = SlackSender(
            bot_url=self.url, signing_secret=SECRET, response_url_for=slack.response_url
        )

    def health(self) -> tuple[int, str]:
        deadline = time.monotonic() + 120
        while True:
            try:
                return http_get(f"{self.url}/healthz")
            except OSError:
                assert self.proc.poll() is None, self.log()
                assert time.monotonic() < deadline, "the bot did not start in 120 s"
                time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def start(tmp_path: Path, slack: SlackApiServer) -> Iterator[Any]:
    bots: list[BotProcess] = []

    def run(**env: str) -> BotProcess:
        bots.append(BotProcess(tmp_path, slack, **env))
        return bots[-1]

    yield run
    for bot in bots:
        bot.stop()


def message_with(slack: SlackApiServer, text: str, *, timeout_s: float = 60) -> dict[str, Any]:
    def find() -> Any:
        for message in list(slack.messages.values()):
            if text in (message["text"] or ""):
                return message
        return None

    return slack.wait_for(find, timeout_s=timeout_s)


def test_killing_the_model_mid_generation_fails_that_comparison_and_the_bot_carries_on(
    start: Any, slack: SlackApiServer, gguf_path: Path
) -> None:
    bot = start(LLM_MAX_NEW_TOKENS="128")
    assert bot.health() == (200, "ok\n")  # the model passed its self-check at start
    models = child_pids(bot.proc.pid, command_contains=MODEL_SERVER)
    assert len(models) == 1, models

    assert bot.send.command("Write a function is_prime(n)").status == 200
    message_with(slack, "asked CodeRank")
    wait_until_generating(model_socket(models[0]))  # mid-generation: up to 128 tokens an agent
    os.kill(models[0], signal.SIGKILL)

    failed = message_with(slack, "could not be made")
    assert "SIGKILL" in failed["text"] and "ask again" in failed["text"], failed["text"]
    assert bot.proc.poll() is None
    assert bot.health()[0] == 200

    assert bot.send.command("Write a function that reverses a string").status == 200
    message_with(slack, "Which answer is better", timeout_s=120)
    assert bot.proc.poll() is None
    restarted = child_pids(bot.proc.pid, command_contains=MODEL_SERVER)
    assert len(restarted) == 1 and restarted != models
    assert "the embedded model process" in bot.log() and "SIGKILL" in bot.log()
    assert slack.token not in bot.log() and SECRET not in bot.log()


def test_a_model_that_cannot_start_makes_healthz_unhealthy_and_says_why(
    start: Any, slack: SlackApiServer, gguf_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    with open(gguf_path, "rb") as source:
        broken.write_bytes(source.read(8 * 1024 * 1024))
    bot = start(LOCAL_GGUF_PATH=str(broken))
    status, body = bot.health()
    assert status == 503 and "LOCAL_GGUF_PATH" in body, body
    errors = [ln for ln in bot.log().splitlines() if "the embedded model is not available" in ln]
    assert len(errors) == 1, bot.log()
    assert "Traceback" not in bot.log()

    # It still answers Slack: a /coderank is told why nothing can be generated.
    assert bot.send.command("Write a function is_prime(n)").status == 200
    failed = message_with(slack, "could not be made")
    assert "LOCAL_GGUF_PATH" in failed["text"]
    assert bot.proc.poll() is None
