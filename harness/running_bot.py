"""The real Bolt app over HTTP (waitress on 127.0.0.1), the real graph and SQLite store, scripted
agents, and the Slack Web API stand-in that records what the bot posts: what the Slack tests and
the Slack benchmark run."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_bolt import App

from bot import config as slack_config
from bot.app import build_client, create_app
from bot.http import make_server
from bot.jobs import start_jobs
from bot.services import BotServices, build_bot_services
from coderank.services import LiveReranker, Services, build_services
from harness.fakes import LengthReranker, fake_agents
from harness.settings import make_settings
from harness.slack_requests import SlackSender
from harness.slack_server import SlackApiServer

SIGNING_SECRET = "test-signing-secret-123"


@dataclass
class ListenerRuns(Executor):
    """The app's listener pool, keeping the future of every listener run it was given.

    Bolt hands a request to its listener on this pool before it answers the HTTP request, so once
    a test has its response, that request's listener run is among ``futures``.
    """

    pool: Executor
    futures: list[Future[Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            future = self.pool.submit(fn, *args, **kwargs)
            self.futures.append(future)
            return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def so_far(self) -> list[Future[Any]]:
        with self._lock:
            return list(self.futures)


@dataclass
class RunningBot:
    url: str
    slack: SlackApiServer
    send: SlackSender
    services: BotServices
    core: Services
    stop: Callable[[], None]
    app: App
    listeners: ListenerRuns

    def settled(self, *, timeout_s: float = 20) -> int:
        """Wait until every request the bot has answered so far is fully handled: each listener
        run has returned, then each background job queued before that (stats, digest) has run.
        Returns how many listener runs there were, so a test can check it waited for its own.

        What a listener posts, replies or stores, it does before it returns (a generation, a
        fine-tune and coalesced message updates go on elsewhere and are not waited for); so after
        this, a test can check that something did *not* happen."""
        runs = self.listeners.so_far()
        _, unfinished = wait(runs, timeout=timeout_s)
        assert not unfinished, f"{len(unfinished)} listener runs still going after {timeout_s:g} s"
        self.services.background.submit(lambda: None).result(timeout=timeout_s)  # FIFO, one worker
        return len(runs)

    def vote_message(
        self, channel: str = "C0GENERAL", *, timeout_s: float = 20
    ) -> tuple[str, str, dict[str, Any]]:
        """Wait for the first message in ``channel`` to become a vote message; returns
        (comparison_id, ts, message)."""

        def ready() -> Any:
            for (ch, ts), message in list(self.slack.messages.items()):
                if ch == channel and "Which answer is better" in (message["text"] or ""):
                    return ts, message
            return None

        ts, message = self.slack.wait_for(ready, timeout_s=timeout_s)
        actions = next(b for b in message["blocks"] if b.get("block_id") == "coderank_votes")
        return actions["elements"][0]["value"], ts, message


def start_bot(
    tmp_path: Path,
    slack: SlackApiServer,
    *,
    agents: Any = None,
    env: dict[str, str] | None = None,
    jobs: bool = False,
    live_reranker: bool = False,
    reranker: Any = None,
) -> RunningBot:
    settings = make_settings(tmp_path, **{"VOTE_QUORUM": "0", **(env or {})})
    slack_settings = slack_config.from_env(
        {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "GEN_WORKERS": "2",
            "CODERANK_ADMINS": "U0ADMIN",
            # Ten updates a second, not one: a test waits for its messages, not for the pace
            # Slack needs (the coalescing test asks for the default).
            "SLACK_UPDATE_INTERVAL_S": "0.1",
            **(env or {}),
        },
        env_file=None,
    )
    core = build_services(
        settings,
        agents=agents or fake_agents(),
        reranker=reranker or (LiveReranker(settings) if live_reranker else LengthReranker()),
        rng=random.Random(3),
    )
    client = build_client(slack_settings, metrics=core.metrics)
    services = build_bot_services(slack_settings, settings, core, client=client)
    app = create_app(slack_settings, services, client=client)
    listeners = ListenerRuns(app.listener_runner.listener_executor)
    app.listener_runner.listener_executor = listeners
    if jobs:
        start_jobs(settings, services, client)
    services.generations.resume_pending()  # as python -m bot does at start-up
    server = make_server(app, host="127.0.0.1", port=0, ready=core.readiness, metrics=core.metrics)
    stopping = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:
            if not stopping.is_set():  # only the select() on the socket stop() just closed
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"

    def stop() -> None:
        stopping.set()
        server.close()
        thread.join(timeout=5)
        services.close()
        core.close()

    send = SlackSender(
        bot_url=url, signing_secret=SIGNING_SECRET, response_url_for=slack.response_url
    )
    return RunningBot(url, slack, send, services, core, stop, app, listeners)
