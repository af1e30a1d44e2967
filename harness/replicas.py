"""Two ``python -m bot`` replicas as on two machines: separate ``DATA_DIR``s, one PostgreSQL
(``DATABASE_URL``), the Astra Data API test server as the store, a shared ``MODELS_DIR``, the
Slack Web API test server and a hosted-model test server (``LLM_BACKEND=hf``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coderank.config import Settings, from_env
from coderank.store import Store, open_store
from harness.chat_server import ChatServer
from harness.data_api_server import DataApiServer
from harness.servers import free_port, wait_http
from harness.settings import MODEL_CACHE, ROOT
from harness.slack_requests import SlackSender
from harness.slack_server import SlackApiServer

SIGNING_SECRET = "replica-signing-secret"
ADMIN = "U0ADMIN"
LEASE_S = 6.0  # REPLICA_LEASE_S: a dead replica's generations are taken over after this


@dataclass
class Replica:
    """One ``python -m bot`` process; :meth:`start` again after :meth:`kill` (same ``DATA_DIR``
    and ``REPLICA_ID``, as a restarted machine)."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env={**self.env, "PORT": str(self.port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def wait_ready(self, timeout_s: float = 120) -> None:
        try:
            wait_http(f"{self.url}/healthz", timeout_s=timeout_s, proc=self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"replica {self.name} did not start: {exc}\n{self.log()}") from exc

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Cluster:
    replicas: list[Replica]
    senders: list[SlackSender]
    slack: SlackApiServer
    astra: DataApiServer
    chat: ChatServer
    settings: Settings  # the shared parts (store, DATABASE_URL) as the test process sees them
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        if self._store is not None:
            self._store.close()

    def logs(self) -> str:
        return "\n".join(f"--- {r.name} ---\n{r.log()}" for r in self.replicas)


def start_cluster(
    tmp: Path,
    *,
    database_url: str,
    slack: SlackApiServer,
    astra: DataApiServer,
    chat: ChatServer,
    count: int = 2,
    extra: dict[str, str] | None = None,
) -> Cluster:
    """``count`` replicas, started together and ready (``/healthz`` answers)."""
    shared = {
        "STORE": "astra",
        "ASTRA_DB_API_ENDPOINT": astra.endpoint,
        "ASTRA_DB_APPLICATION_TOKEN": astra.token,
        "DATABASE_URL": database_url,
        "MODELS_DIR": str(tmp / "models"),  # shared storage, as the operations guide says
        "CODERANK_CACHE_DIR": MODEL_CACHE,
        "VOTE_QUORUM": "0",
        "REPLICA_LEASE_S": str(LEASE_S),
    }
    # The hosted-model path: huggingface_hub refuses every call while offline, even to 127.0.0.1.
    base = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    replicas = []
    for i in range(1, count + 1):
        env = {
            **base,
            **shared,
            "DATA_DIR": str(tmp / f"machine{i}" / "data"),
            "REPLICA_ID": f"replica{i}",
            "LLM_BACKEND": "hf",
            "HF_ENDPOINT_URL": chat.url,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "CODERANK_ADMINS": ADMIN,
            "GEN_WORKERS": "2",
            "SLACK_UPDATE_INTERVAL_S": "0.1",  # as in harness.running_bot
            **(extra or {}),
        }
        replicas.append(Replica(f"replica{i}", env, tmp / f"replica{i}.log"))
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.wait_ready()
    senders = [SlackSender(r.url, SIGNING_SECRET, slack.response_url) for r in replicas]
    settings = from_env({**shared, "DATA_DIR": str(tmp / "test-process")}, env_file=None)
    return Cluster(replicas, senders, slack, astra, chat, settings)


def vote_messages(slack: SlackApiServer) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every vote message posted so far: comparison_id -> (channel, ts, message)."""
    found = {}
    for (channel, ts), message in list(slack.messages.items()):
        for block in message.get("blocks") or []:
            if block.get("block_id") == "coderank_votes":
                found[block["elements"][0]["value"]] = (channel, ts, message)
    return found
