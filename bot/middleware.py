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


# Set in a request's context once its signature is checked: only then may anything read from
# its body (its response_url above all) be used, the error handler's reply included.
VERIFIED = "coderank_signature_verified"
# Slack's timestamps are seconds since 1970: ten digits until the year 2286.
MAX_TIMESTAMP_DIGITS = 12


class SignedRequests(RequestVerification):
    """Bolt's check of the signature and the five-minute window: 401 for anything else.

    Bolt's own check logs every refused request in full (body, signature) at INFO, and *raises*
    on a timestamp ``int()`` refuses (not digits, or more than 4,300 of them) or a signature
    ``hmac.compare_digest`` refuses (not ASCII): the request then reached the error handler,
    which answered on the unverified body's ``response_url``. This one refuses every such
    header with a 401 and a line without either, and marks the requests it let through.
    """

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse:
        if self._can_skip(req.mode, req.body):  # Socket Mode: Slack's own authenticated socket
            req.context[VERIFIED] = True
            return next()
        timestamp = req.headers.get("x-slack-request-timestamp", [""])[0]
        signature = req.headers.get("x-slack-signature", [""])[0]
        if not (_is_seconds(timestamp) and _is_signature(signature)):
            return self._refuse(req)
        try:
            valid = self.verifier.is_valid(req.raw_body, timestamp, signature)
        except Exception:  # noqa: BLE001 - whatever a header holds, it is a refusal, not a 500
            valid = False
        if not valid:
            return self._refuse(req)
        req.context[VERIFIED] = True
        return next()

    def _refuse(self, req: BoltRequest) -> BoltResponse:
        log.info(
            "refused a request without a valid signature from the last five minutes"
            " (%d characters)",
            len(req.raw_body),
        )
        return self._build_error_response()


def _is_seconds(timestamp: str) -> bool:
    return timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS


def _is_signature(signature: str) -> bool:
    """``v0=`` and 64 hexadecimal digits, as Slack signs."""
    digest = signature.removeprefix("v0=")
    return (
        signature.startswith("v0=")
        and len(digest) == 64
        and digest.isascii()
        and all(c in "0123456789abcdef" for c in digest)
    )


def is_verified(context: Any) -> bool:
    """Whether :class:`SignedRequests` checked this request's signature (a Bolt context)."""
    return bool(context is not None and context.get(VERIFIED))


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
