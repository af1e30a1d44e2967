"""The app's global middleware: Slack's signature check, and the shape of the payloads the
listeners read. A request refused here reaches no listener and is logged in one short line,
without its body."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.middleware.request_verification import RequestVerification

from bot import ids, messages

log = logging.getLogger(__name__)


class SignedRequests(RequestVerification):
    """Bolt's check of the signature and the five-minute window (401 otherwise).

    Bolt's own check logs every refused request in full (body, signature) at INFO, and fails with
    a 500 on a timestamp that is not a number; this one logs a line without either.
    """

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse:
        timestamp = req.headers.get("x-slack-request-timestamp", ["0"])[0]
        if not self._can_skip(req.mode, req.body) and not _is_seconds(timestamp):
            self._debug_log_error("", timestamp, req.raw_body)
            return self._build_error_response()
        return super().process(req=req, resp=resp, next=next)

    def _debug_log_error(self, signature: str, timestamp: str, body: str) -> None:
        log.info(
            "refused a request without a valid signature from the last five minutes"
            " (%d characters)",
            len(body),
        )


def _is_seconds(timestamp: str) -> bool:
    return timestamp.isascii() and timestamp.isdigit()


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _field(body: dict[str, Any], outer: str, inner: str) -> Any:
    container = body.get(outer)
    return container.get(inner) if isinstance(container, dict) else None


def click_problem(body: dict[str, Any]) -> str | None:
    """What a ``block_actions`` payload lacks of what the button listeners read, or ``None``:
    a comparison's buttons are clicked in its message, the App Home's in the Home view."""
    if not _text(_field(body, "user", "id")):
        return "no user"
    actions = body.get("actions")
    if not (isinstance(actions, list) and len(actions) == 1 and isinstance(actions[0], dict)):
        return "no single action"
    action = actions[0]
    if not all(_text(action.get(key)) for key in ("action_id", "value", "action_ts")):
        return "an incomplete button"
    if action["action_id"] not in ids.ACTIONS:
        return "an unknown button"
    if action["action_id"] in ids.HOME_ACTIONS:  # clicked in the App Home: in a view
        if _field(body, "container", "type") != "view" or not _text(_field(body, "view", "id")):
            return "no Home view"
    elif not all(_text(_field(body, "container", key)) for key in ("channel_id", "message_ts")):
        return "no message"
    if not _text(body.get("trigger_id")):
        return "no trigger id"
    return None


def command_problem(body: dict[str, Any]) -> str | None:
    """What a slash command lacks of what the command listeners read, or ``None``."""
    for key in ("user_id", "channel_id", "trigger_id"):
        if not _text(body.get(key)):
            return f"no {key}"
    return None


class WellFormedPayloads(Middleware):
    """Passes on clicks and commands that have what the listeners read; answers the others with an
    ephemeral message and 200 when there is a ``response_url``, else 400. Nothing is stored.

    A ``Middleware`` rather than a function: Bolt builds a function's arguments from the payload
    (``actions[0]`` among them), which fails on the very payloads refused here.
    """

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        body = req.body
        if body.get("type") == "block_actions":
            problem, text = click_problem(body), messages.UNREADABLE_CLICK
        elif "command" in body:
            problem, text = command_problem(body), messages.UNREADABLE_COMMAND
        else:
            problem, text = None, ""
        if problem is None:
            return next()
        respond = req.context.respond
        if respond is None or not _text(body.get("response_url")):
            log.warning("refused a signed payload with %s and no response_url", problem)
            return BoltResponse(status=400, body=f"{problem}\n")
        log.warning("refused a signed payload with %s", problem)
        respond(
            text=text.format(problem=problem), response_type="ephemeral", replace_original=False
        )
        return BoltResponse(status=200, body="")
