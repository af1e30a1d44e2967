"""The Web API client, counted: every failed call and every HTTP 429, by method, in the
process's :class:`~coderank.metrics.Metrics`."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from coderank.metrics import Metrics


def _method(url: str) -> str:
    """``chat.update`` of ``https://slack.com/api/chat.update?...``."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class CountedRateLimitHandler(RateLimitErrorRetryHandler):
    """Slack's 429 handling (wait ``Retry-After``, retry), counting each 429 answer, the last
    one too when no retry is left."""

    def __init__(self, metrics: Metrics, *, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self.metrics.slack_rate_limited(_method(request.url))
        return super().can_retry(state=state, request=request, response=response, error=error)


class CountedWebClient(WebClient):
    """A ``WebClient`` that counts the calls that fail: Slack's error code (``not_in_channel``,
    ``ratelimited`` once the retries are spent, ...) or the exception's type (no connection)."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        try:
            response: SlackResponse = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            self.metrics.slack_error(api_method, str(error or "unknown"))
            raise
        except Exception as exc:
            self.metrics.slack_error(api_method, type(exc).__name__)
            raise
        return response
