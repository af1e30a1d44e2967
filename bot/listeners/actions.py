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
from bot.blocks.results import results_message
from bot.blocks.vote import shown_answers, vote_message
from bot.services import BotServices
from coderank.errors import UnknownComparisonError, VotingClosedError

log = logging.getLogger(__name__)


def show_state(services: BotServices, state: dict[str, Any], channel: str, ts: str) -> None:
    """Update the comparison's message: the tally while open, the results once closed (and then
    its voting deadline is no longer needed)."""
    closed = bool(state.get("closed"))
    text, blocks = results_message(state) if closed else vote_message(state)
    services.updater.push(channel, ts, text=text, blocks=blocks, final=closed)
    if closed and services.jobs is not None:
        services.jobs.cancel_close(state["comparison_id"])


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
) -> dict[str, Any]:
    """The state of the comparison a button names, if that button is in the comparison's own
    message (a comparison started elsewhere, e.g. on the command line, has none).

    Raises:
        Refused: no such comparison, or not this message's.
    """
    try:
        state = services.comparisons.state(action["value"])
    except UnknownComparisonError as exc:
        raise Refused(REFUSALS[UnknownComparisonError]) from exc
    channel, ts = _message(body)
    surface = state.get("surface") or {}
    if surface.get("channel") != channel or surface.get("ts") != ts:
        raise Refused(messages.NOT_THIS_MESSAGE)
    return state


def register(app: App, services: BotServices) -> None:
    @app.action(_any_of(ids.VOTE_CHOICES))
    def vote(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user, choice = body["user"]["id"], ids.VOTE_CHOICES[action["action_id"]]
        try:
            cid = clicked_comparison(services, body, action)["comparison_id"]
        except Refused as refused:
            _tell(respond, str(refused))
            return
        key = f"action:{user}:{action['action_ts']}"
        if not services.ledger.claim(key):
            return  # a retry of a click already handled
        try:
            result = services.comparisons.vote(cid, user=user, choice=choice)
        except (VotingClosedError, UnknownComparisonError) as exc:
            services.ledger.release(key)  # nothing recorded: the claim stands for no vote
            _tell(respond, REFUSALS[type(exc)])
            return
        except BaseException:
            services.ledger.release(key)  # not recorded: a retry of this click may try again
            raise
        confirmation = messages.VOTED if result.changed else messages.VOTE_UNCHANGED
        _tell(respond, confirmation.format(choice=messages.CHOICE_LABELS[choice]))
        if result.changed:
            show_state(services, services.comparisons.state(cid), *_message(body))

    @app.action(ids.CLOSE_VOTING)
    def close(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        try:
            state = clicked_comparison(services, body, action)
            requester = state.get("requester")
            if not services.can_close(user, requester):
                _tell(respond, messages.CLOSE_FORBIDDEN.format(requester=requester))
                return
            final = services.comparisons.close(state["comparison_id"], user=user)
        except Refused as refused:
            _tell(respond, str(refused))
            return
        except (VotingClosedError, UnknownComparisonError) as exc:
            _tell(respond, REFUSALS[type(exc)])
            return
        show_state(services, final, *_message(body))

    @app.action(_any_of(ids.SHOW_FULL_LABELS))
    def show_full(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        label = ids.SHOW_FULL_LABELS[action["action_id"]]
        try:
            state = clicked_comparison(services, body, action)
        except Refused as refused:
            _tell(respond, str(refused))
            return
        answer = shown_answers(state)[label]
        client.views_open(
            trigger_id=body["trigger_id"], view=full_answer_view(label, answer["text"])
        )
