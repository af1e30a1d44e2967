"""Fixtures of the fault and load suite: test servers, two real replicas (harness/replicas.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.chat_server import ChatServer
from harness.data_api_server import DataApiServer
from harness.replicas import Cluster, start_cluster
from harness.slack_server import SlackApiServer


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer(delay_s=0.2).start()
    yield server
    server.stop()


@pytest.fixture
def cluster(
    tmp_path: Path,
    database_url: str,
    slack: SlackApiServer,
    astra: DataApiServer,
    chat: ChatServer,
) -> Iterator[Cluster]:
    running = start_cluster(
        tmp_path,
        database_url=database_url,
        slack=slack,
        astra=astra,
        chat=chat,
        extra={"PYTHONFAULTHANDLER": "1"},
    )
    yield running
    running.stop()
