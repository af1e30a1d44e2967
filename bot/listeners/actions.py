"""Button clicks: votes, closing, and showing a whole answer."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids, messages
from bot.blocks.modal import full_answer_view
from bot.failures import guarded
from bot.services import BotServices
from bot.surface import message_of
from coderank.errors import UnknownComparisonError, VotingClosedError
from coderank.models import BY_ADMIN, BY_REQUESTER, Comparison

log = logging.getLogger(__name__)


def _any_of(action_ids: Iterable[str]) -> re.Pattern[str]:
    # \Z, not $: "$" also matches before a trailing newline.
    return re.compile(r"\A(?:" + "|".join(re.escape(a) for a in action_ids) + r")\Z")


def _message(body: dict[str, Any]) -> tuple[str, str]:
    container = body["container"]
    return container["channel_id"], container["message_ts"]


def _tell(respond: Respond, text: str) -> None:
    """An ephemeral reply to the clicker, leaving the channel message as it is."""
    respond(text=text, response_type="ephemeral", replace_original=False)


class Refused(Exception):
    """A click that cannot be taken; its message is what the clicker is told."""


# Why a click on this comparison cannot be taken, as the clicker is told.
REFUSALS: dict[type[Exception], str] = {
    VotingClosedError: messages.VOTING_CLOSED,
    UnknownComparisonError: messages.UNKNOWN_COMPARISON,
}


def clicked_comparison(
    services: BotServices, body: dict[str, Any], action: dict[str, Any]
) -> Comparison:
    """The comparison a button names, if that button is in the comparison's own message (a
    comparison started elsewhere, e.g. on the command line, has none).

    Raises:
        Refused: no such comparison, or not this message's.
    """
    try:
        comparison = services.comparisons.get(action["value"])
    except UnknownComparisonError as exc:
        raise Refused(REFUSALS[UnknownComparisonError]) from exc
    if message_of(comparison.surface) != _message(body):
        raise Refused(messages.NOT_THIS_MESSAGE)
    return comparison


def _closed(services: BotServices, respond: Respond, exc: VotingClosedError) -> None:
    """Tell the clicker voting is closed; if this click found it past its deadline (and closed
    it), show the results."""
    _tell(respond, REFUSALS[VotingClosedError])
    if exc.comparison is not None:
        services.surface.show(exc.comparison)


def register(app: App, services: BotServices) -> None:
    @app.action(_any_of(ids.VOTE_CHOICES))
    @guarded
    def vote(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user, choice = body["user"]["id"], ids.VOTE_CHOICES[action["action_id"]]
        try:
            cid = clicked_comparison(services, body, action).comparison_id
        except Refused as refused:
            _tell(respond, str(refused))
            return
        key = f"action:{user}:{action['action_ts']}"
        if not services.ledger.claim(key):
            return  # a retry of a click already handled
        try:
            result = services.comparisons.vote(cid, user=user, choice=choice)
        except VotingClosedError as exc:
            services.ledger.release(key)  # nothing recorded: the claim stands for no vote
            _closed(services, respond, exc)
            return
        except UnknownComparisonError:
            services.ledger.release(key)
            _tell(respond, REFUSALS[UnknownComparisonError])
            return
        except BaseException:
            services.ledger.release(key)  # not recorded: a retry of this click may try again
            raise
        confirmation = messages.VOTED if result.changed else messages.VOTE_UNCHANGED
        _tell(respond, confirmation.format(choice=messages.CHOICE_LABELS[choice]))
        if result.changed:
            services.surface.show(result.comparison)

    @app.action(ids.CLOSE_VOTING)
    @guarded
    def close(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        try:
            comparison = clicked_comparison(services, body, action)
            if user == comparison.requester:
                how = BY_REQUESTER
            elif services.is_admin(user):
                how = BY_ADMIN
            else:
                _tell(respond, messages.CLOSE_FORBIDDEN.format(requester=comparison.requester))
                return
            final = services.comparisons.close(comparison.comparison_id, user=user, how=how)
        except Refused as refused:
            _tell(respond, str(refused))
            return
        except VotingClosedError as exc:
            _closed(services, respond, exc)
            return
        except UnknownComparisonError:
            _tell(respond, REFUSALS[UnknownComparisonError])
            return
        services.surface.show(final)

    @app.action(_any_of(ids.SHOW_FULL_LABELS))
    @guarded
    def show_full(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        label = ids.SHOW_FULL_LABELS[action["action_id"]]
        try:
            comparison = clicked_comparison(services, body, action)
        except Refused as refused:
            _tell(respond, str(refused))
            return
        answer = comparison.shown()[label]
        client.views_open(trigger_id=body["trigger_id"], view=full_answer_view(label, answer.text))
