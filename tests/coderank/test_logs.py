"""The log set-up of the long-running processes: every secret the settings hold, and every
token-shaped string, is scrubbed from every path a record can carry it (message, arguments,
exception text and its cause, ``extra``, the stack), in both formats; JSON logs are one object
a line and name the comparison being handled."""

from __future__ import annotations

import io
import json
import logging
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import config as slack_config
from bot.failures import tell_failure
from coderank.config import Settings
from coderank.errors import StoreError
from coderank.logs import comparison_context, setup_logging
from coderank.services import build_services
from harness.fakes import LengthReranker, fake_agents
from harness.settings import MODEL_CACHE, ROOT, make_settings

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"  # no shape of its own: scrubbed as configured
APP_TOKEN = "xapp-1-A0CODERANK-1234567890-abcdef0123456789"
ASTRA_TOKEN = "AstraCS:AbCdEfGhIjKl:0123456789abcdef0123456789abcdef"
HF_TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
DB_PASSWORD = "s3cr3t-Pa55word"
DATABASE_URL = f"postgresql://coderank:{DB_PASSWORD}@db.internal:5432/coderank"
# Token-shaped, but configured nowhere: scrubbed by their shape.
STRAY = (
    "xoxp-2222222222-3333333333-userTokenValue",
    "xoxb-4444444444-otherBotTokenValue",
    "xoxb-1-short",  # the log scrubs a Slack prefix with whatever follows it
    "xapp-1-A0OTHER-5555-fedcba",
    "hf_ZyXwVuTsRqPoNmLkJiHgFeDcBa987654",
    "AstraCS:ZyXwVuTsRq:fedcba9876543210",
)
CONFIGURED = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, ASTRA_TOKEN, HF_TOKEN, DB_PASSWORD)
SECRETS = (*CONFIGURED, DATABASE_URL, *STRAY)


def settings_with_secrets(tmp_path: Path) -> tuple[Settings, slack_config.SlackSettings]:
    core = make_settings(
        tmp_path,
        STORE="astra",
        ASTRA_DB_API_ENDPOINT="https://db-id-region.apps.astra.datastax.com",
        ASTRA_DB_APPLICATION_TOKEN=ASTRA_TOKEN,
        HUGGINGFACEHUB_API_TOKEN=HF_TOKEN,
        DATABASE_URL=DATABASE_URL,
    )
    slack = slack_config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
        },
        env_file=None,
    )
    return core, slack


class Captured:
    def __init__(self, stream: io.StringIO, log_format: str) -> None:
        self.stream = stream
        self.log_format = log_format

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, object]]:
        """Each line as its JSON object (it must parse, alone)."""
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def capture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Captured]:
    """The process's log set-up (``LOG_FORMAT`` = the test's parameter) over a buffer."""
    core, slack = settings_with_secrets(tmp_path)
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = setup_logging(
        log_format=request.param,
        secrets=[*core.secrets(), *slack.secrets()],
        level=logging.DEBUG,
        stream=stream,
    )
    yield Captured(stream, request.param)
    root.removeHandler(handler)
    root.setLevel(level)


def send_every_secret(secret: str) -> None:
    """``secret`` through every path a log record can carry it."""
    log = logging.getLogger("tests.logs")
    log.warning(f"in the message: {secret}")
    log.error("in the arguments: %s and %r", secret, {"token": secret})
    log.info("in a mapping argument: %(token)s", {"token": secret})
    log.error(ValueError(f"a message that is an exception: {secret}"))
    log.warning("in extra", extra={"token": secret, "nested": {"k": [secret, 1]}})
    log.info("in the comparison id", extra={"comparison_id": f"c-{secret}"})
    try:
        try:
            raise StoreError(f"the cause: Bearer {secret}")
        except StoreError as cause:
            raise RuntimeError(f"the exception: {secret}") from cause
    except RuntimeError as exc:
        log.exception("with a traceback")
        tell_failure(exc, None)  # the bot's listener-failure line: exc_info=error
        logging.getLogger("slack_sdk.web.base_client").debug("a vendor's line: %s", exc)
    log.warning("bad arguments %s %s", secret)  # a mistake in the code still scrubs
    log.info("with the stack (%s)", secret, stack_info=True)
    thread = threading.Thread(target=lambda: log.error("from a thread: %s", secret))
    thread.start()
    thread.join()


@pytest.mark.parametrize("capture", ["text", "json"], indirect=True)
def test_no_secret_reaches_the_log_by_any_path(capture: Captured) -> None:
    for secret in SECRETS:
        send_every_secret(secret)
    logged = capture.text
    for path in ("in the message", "mapping argument", "in extra", "comparison id", "a vendor's"):
        assert logged.count(path) == len(SECRETS), path  # every path was logged, nothing lost
    assert logged.count("***") > 10 * len(SECRETS)
    for secret in SECRETS:
        assert secret not in logged, secret
    assert DB_PASSWORD not in logged and "db.internal" in logged  # the URL, without its password
    assert "Traceback" in logged and "RuntimeError" in logged and "StoreError" in logged
    if capture.log_format == "json":
        records = capture.records()  # every line parses, alone
        assert {"time", "level", "logger", "message"} <= set(records[0])


@pytest.mark.parametrize("capture", ["json"], indirect=True)
def test_json_logs_are_one_object_a_line(capture: Captured) -> None:
    log = logging.getLogger("tests.logs")
    log.info("two\nlines and a \u2028 separator")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    log.warning("with extra", extra={"attempt": 2})
    with comparison_context("c0123"):
        log.info("inside")
    first, failed, extra, inside = capture.records()
    assert set(first) == {"time", "level", "logger", "message"}
    assert (first["level"], first["logger"]) == ("INFO", "tests.logs")
    assert first["message"] == "two\nlines and a \u2028 separator"
    assert str(first["time"]).endswith("+00:00")
    assert "ValueError: boom" in str(failed["exception"]) and failed["level"] == "ERROR"
    assert extra["attempt"] == 2
    assert inside["comparison_id"] == "c0123"


@pytest.mark.parametrize("capture", ["json"], indirect=True)
def test_lines_logged_while_a_comparison_runs_name_it(capture: Captured, tmp_path: Path) -> None:
    """An agent's failed attempts are logged in LangGraph's node threads: they name the
    comparison all the same."""
    services = build_services(
        make_settings(tmp_path / "run", VOTE_QUORUM="0"),
        agents=fake_agents(failing=["explainer"]),
        reranker=LengthReranker(),
        rng=random.Random(1),
    )
    try:
        comparison = services.comparisons.start(
            "Write a function f(n) that returns n", requester="alice", source="cli"
        )
    finally:
        services.close()
    records = capture.records()
    attempts = [r for r in records if "agent explainer attempt" in str(r["message"])]
    assert len(attempts) == 2
    assert {r["comparison_id"] for r in attempts} == {comparison.comparison_id}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_command_line_scrubs_its_log_too(log_format: str, tmp_path: Path) -> None:
    """``python -m coderank`` logs warnings and errors through the same set-up (run in a process
    of its own: pytest's log capture would format the records before any filter)."""
    program = (
        "import io, sys\n"
        "from coderank import cli\n"
        "from tests.coderank.test_logs import STRAY, HF_TOKEN, send_every_secret\n"
        "assert cli.main(['stats'], out=io.StringIO(), err=sys.stderr) == 0\n"
        "for secret in (HF_TOKEN, *STRAY):\n"
        "    send_every_secret(secret)\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        "CODERANK_CACHE_DIR": MODEL_CACHE,
        "HF_HUB_OFFLINE": "1",
        "HUGGINGFACEHUB_API_TOKEN": HF_TOKEN,
        "LOG_FORMAT": log_format,
    }
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    logged = done.stderr
    assert logged.count("in the message") == 1 + len(STRAY)
    assert "mapping argument" not in logged  # INFO lines: the command line logs warnings only
    for secret in (HF_TOKEN, *STRAY):
        assert secret not in logged, secret
    if log_format == "json":
        assert all(json.loads(line)["level"] for line in logged.splitlines())


@pytest.mark.parametrize("capture", ["text"], indirect=True)
def test_a_line_break_in_what_is_logged_cannot_forge_a_text_line(capture: Captured) -> None:
    endpoint_said = "bad request\n2030-01-01 00:00:00,000 CRITICAL bot: forged\r\u2028entry"
    logging.getLogger("tests.logs").warning("the endpoint said: %s", endpoint_said)
    (line,) = capture.text.splitlines()
    assert "WARNING tests.logs: the endpoint said: bad request 2030-01-01" in line
    assert line.endswith("CRITICAL bot: forged entry")
