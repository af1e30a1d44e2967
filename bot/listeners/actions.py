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
    """Update the comparison's message: the tally while open, the results once closed."""
    text, blocks = results_message(state) if state.get("closed") else vote_message(state)
    services.updater.push(channel, ts, text=text, blocks=blocks)


def _any_of(action_ids: Iterable[str]) -> re.Pattern[str]:
    return re.compile("^(" + "|".join(re.escape(a) for a in action_ids) + ")$")


def _message(body: dict[str, Any]) -> tuple[str, str]:
    container = body["container"]
    return container["channel_id"], container["message_ts"]


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
        except VotingClosedError:
            respond(text=messages.VOTING_CLOSED, response_type="ephemeral", replace_original=False)
            return
        except UnknownComparisonError:
            respond(
                text=messages.UNKNOWN_COMPARISON, response_type="ephemeral", replace_original=False
            )
            return
        except BaseException:
            services.ledger.release(key)
            raise
        label = messages.CHOICE_LABELS[choice]
        confirmation = messages.VOTED if result.changed else messages.VOTE_UNCHANGED
        respond(
            text=confirmation.format(choice=label),
            response_type="ephemeral",
            replace_original=False,
        )
        if result.changed:
            show_state(services, services.comparisons.state(cid), *_message(body))

    @app.action(ids.CLOSE_VOTING)
    def close(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user, cid = body["user"]["id"], action["value"]
        try:
            state = services.comparisons.state(cid)
            if not services.can_close(user, state.get("requester")):
                respond(
                    text=messages.CLOSE_FORBIDDEN.format(requester=state.get("requester")),
                    response_type="ephemeral",
                    replace_original=False,
                )
                return
            final = services.comparisons.close(cid, user=user)
        except VotingClosedError:
            respond(text=messages.VOTING_CLOSED, response_type="ephemeral", replace_original=False)
            return
        except UnknownComparisonError:
            respond(
                text=messages.UNKNOWN_COMPARISON, response_type="ephemeral", replace_original=False
            )
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
        except UnknownComparisonError:
            respond(
                text=messages.UNKNOWN_COMPARISON, response_type="ephemeral", replace_original=False
            )
            return
        answer = shown_answers(state)[label]
        client.views_open(
            trigger_id=body["trigger_id"], view=full_answer_view(label, answer["text"])
        )
