"""The bot fixture: the real Bolt app over HTTP on each store (see ``harness/running_bot.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.running_bot import RunningBot, start_bot
from harness.slack_server import SlackApiServer


@pytest.fixture
def bot(tmp_path: Path, slack: SlackApiServer, store_env: dict[str, str]) -> Iterator[RunningBot]:
    """The bot on each store (SQLite, and Astra over the Data API test server)."""
    running = start_bot(tmp_path, slack, env=store_env)
    yield running
    running.stop()
