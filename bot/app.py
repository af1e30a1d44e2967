"""``create_app``: the Bolt app with its listeners and its one error handler."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.client import CountedRateLimitHandler, CountedWebClient
from bot.config import SlackSettings
from bot.failures import tell_failure
from bot.listeners import actions, commands, home
from bot.middleware import SignedRequests, WellFormedPayloads, is_verified
from bot.services import BotServices
from coderank.metrics import Metrics

log = logging.getLogger(__name__)

# Listeners only ack, resume a checkpoint and post; generation runs on its own pool.
LISTENER_THREADS = 32


def build_client(settings: SlackSettings, *, metrics: Metrics | None = None) -> WebClient:
    """The Web API client: ``SLACK_API_URL`` if set; 429s wait for ``Retry-After`` and retry.
    Failed calls and 429s are counted in ``metrics`` (a set of its own unless given)."""
    metrics = metrics or Metrics()
    options: dict[str, Any] = {"base_url": settings.api_url} if settings.api_url else {}
    return CountedWebClient(
        token=settings.bot_token,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            CountedRateLimitHandler(metrics, max_retry_count=5),
        ],
        metrics=metrics,
        **options,
    )


def create_app(settings: SlackSettings, services: BotServices, *, client: WebClient) -> App:
    """The Bolt app. Every request's signature and timestamp are checked (401 otherwise), then
    the shape of clicks and commands, before any listener runs."""
    app = App(
        client=client,
        signing_secret=settings.signing_secret,
        name="coderank",
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="listener"),
        # Bolt's own check logs refused requests in full; this one takes its place in the chain.
        request_verification_enabled=False,
        before_authorize=SignedRequests(settings.signing_secret),
    )
    app.use(WellFormedPayloads())
    commands.register(app, services)
    actions.register(app, services)
    home.register(app, services)

    @app.error
    def on_error(error: Exception, context: BoltContext, respond: Respond | None) -> None:
        # A request that failed before its signature was checked carries a response_url anyone
        # could have written: it is logged, never answered.
        tell_failure(error, respond if is_verified(context) else None)

    return app
