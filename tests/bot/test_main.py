"""``python -m bot`` as a process: it serves, runs the jobs, and on SIGTERM (``docker stop``) shuts
down cleanly, handing the jobs back at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from coderank.jobs.scheduler import Jobs
from harness.data_api_server import DataApiServer
from harness.servers import free_port
from harness.settings import make_env, make_settings
from harness.slack_server import SlackApiServer

ROOT = Path(__file__).resolve().parents[2]


def test_the_bot_serves_and_stops_cleanly_on_sigterm(tmp_path: Path, slack: SlackApiServer) -> None:
    port = free_port()
    env = {
        **os.environ,
        **make_env(tmp_path),
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DIGEST_CHANNEL": "C0DIGEST",
        "LOG_FORMAT": "json",
    }
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.read() == b"ok\n"
                break
            except OSError:
                assert bot.poll() is None, bot.stderr.read() if bot.stderr else ""
                assert time.monotonic() < deadline, "the bot did not start in 60 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as r:
            assert json.loads(r.read()) == {"ready": True, "checks": {"model": "ok", "store": "ok"}}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            assert b"\ncoderank_comparisons_started_total 0.0\n" in r.read()
        settings = make_settings(tmp_path)
        other = Jobs(settings, {}, owner="another-replica")
        other.start()
        assert not other.tick()  # the running bot holds the jobs
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=30) == 0
        assert other.tick()  # handed back at shutdown, not after the lease runs out
        other.shutdown()
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    log = bot.stderr.read() if bot.stderr else ""
    records = [json.loads(line) for line in log.splitlines()]  # LOG_FORMAT=json: one a line
    assert "this process now runs the scheduled jobs" in {r["message"] for r in records}
    assert slack.token not in log


def test_a_store_that_refuses_the_token_stops_start_up_with_one_line(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    astra = DataApiServer().start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env={
                **os.environ,
                **make_env(tmp_path),
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_SIGNING_SECRET": "test-signing-secret",
                "SLACK_API_URL": slack.api_url,
                "STORE": "astra",
                "ASTRA_DB_API_ENDPOINT": astra.endpoint,
                "ASTRA_DB_APPLICATION_TOKEN": "AstraCS:wrong-secret-token",
                "ASTRA_RETRY_BUDGET_S": "1",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        astra.stop()
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "ASTRA_DB_APPLICATION_TOKEN" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert "wrong-secret-token" not in done.stderr


def test_an_unreachable_slack_api_stops_start_up_with_one_line_in_either_log_format(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    not_a_model = tmp_path / "broken.gguf"  # fails at once: no model start to wait for
    not_a_model.write_bytes(b"not a GGUF")
    for log_format in ("json", "text"):
        done = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env={
                **os.environ,
                **make_env(tmp_path),
                "SLACK_BOT_TOKEN": "xoxb-1-unreachable-secret",
                "SLACK_SIGNING_SECRET": "test-signing-secret",
                "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
                "LOG_FORMAT": log_format,
                "LOCAL_GGUF_PATH": str(not_a_model),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "unreachable-secret" not in done.stderr
        lines = done.stderr.splitlines()
        if log_format == "json":
            records = [json.loads(line) for line in lines]  # every line is JSON
            errors = [r["message"] for r in records if r["message"].startswith("error:")]
        else:
            errors = [line for line in lines if line.startswith("error:")]
        (error,) = errors
        assert f"127.0.0.1:{port}" in error and "SLACK_API_URL" in error, error
