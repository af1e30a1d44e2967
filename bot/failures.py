"""What the user is told when a listener fails: always something short, never a traceback or a
secret; the traceback goes to the log."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Respond

from bot import messages
from bot.blocks.text import escape
from coderank.errors import CoderankError, CoordinationError

log = logging.getLogger("bot.app")

F = TypeVar("F", bound=Callable[..., None])


def failure_text(error: BaseException) -> str:
    """What the user is told of ``error``: a CodeRank error's own words (escaped for Slack),
    else only its kind."""
    if isinstance(error, CoordinationError):  # PostgreSQL restarting, a pool exhausted
        return messages.TRY_AGAIN
    if isinstance(error, CoderankError):
        said = str(error)
    else:
        said = messages.INTERNAL_ERROR.format(kind=type(error).__name__)
    return messages.SOMETHING_WENT_WRONG.format(error=escape(said))


def tell_failure(error: BaseException, respond: Respond | None) -> None:
    """Log ``error`` with its traceback and tell the user (if there is a ``response_url``)."""
    # Never log the request body: a slash command's body carries a verification token.
    log.error("listener failed: %s: %s", type(error).__name__, error, exc_info=error)
    if respond is None:
        return
    try:
        respond(text=failure_text(error), response_type="ephemeral", replace_original=False)
    except Exception as exc:  # noqa: BLE001 - the response_url is gone too: the log has it
        log.warning("could not tell the user about the failure: %s", type(exc).__name__)


def guarded(listener: F) -> F:
    """A listener that never raises into Bolt: it is acknowledged and the user is told.

    Bolt's thread runner forgets an ``ack()`` when the listener raises right after it (it resets
    the acknowledgement before the HTTP thread has sent it), so Slack would get a 404 and show
    the user an error for a click that was taken."""

    @functools.wraps(listener)
    def run(**kwargs: Any) -> None:
        try:
            listener(**kwargs)
        except Exception as error:  # noqa: BLE001 - told to the user and logged, as app.error does
            ack = kwargs.get("ack")
            if ack is not None and ack.response is None:
                ack()
            tell_failure(error, kwargs.get("respond"))

    return run  # type: ignore[return-value]
