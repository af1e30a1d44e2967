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
    return re.compile("^(" + "|".join(re.escape(a) for a in action_ids) + ")$")


def _message(body: dict[str, Any]) -> tuple[str, str]:
    container = body["container"]
    return container["channel_id"], container["message_ts"]


def _tell(respond: Respond, text: str) -> None:
    """An ephemeral reply to the clicker, leaving the channel message as it is."""
    respond(text=text, response_type="ephemeral", replace_original=False)


# Why a click on this comparison cannot be taken, as the clicker is told.
REFUSALS: dict[type[Exception], str] = {
    VotingClosedError: messages.VOTING_CLOSED,
    UnknownComparisonError: messages.UNKNOWN_COMPARISON,
}


def register(app: App, services: BotServices) -> None:
    @app.action(_any_of(ids.VOTE_CHOICES))
    def vote(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user, cid = body["user"]["id"], action["value"]
        key = f"action:{user}:{action['action_ts']}"
        if not services.ledger.claim(key):
            return  # a retry of a click already handled
        choice = ids.VOTE_CHOICES[action["action_id"]]
        try:
            result = services.comparisons.vote(cid, user=user, choice=choice)
        except (VotingClosedError, UnknownComparisonError) as exc:
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
        user, cid = body["user"]["id"], action["value"]
        try:
            requester = services.comparisons.state(cid).get("requester")
            if not services.can_close(user, requester):
                _tell(respond, messages.CLOSE_FORBIDDEN.format(requester=requester))
                return
            final = services.comparisons.close(cid, user=user)
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
            state = services.comparisons.state(action["value"])
        except UnknownComparisonError as exc:
            _tell(respond, REFUSALS[type(exc)])
            return
        answer = shown_answers(state)[label]
        client.views_open(
            trigger_id=body["trigger_id"], view=full_answer_view(label, answer["text"])
        )
