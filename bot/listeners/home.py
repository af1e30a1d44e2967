"""The App Home tab: published when it is opened, and its fine-tune button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.failures import guarded
from bot.home import HomeTabs
from bot.services import BotServices


def register(app: App, services: BotServices) -> None:
    homes = HomeTabs(services)

    @app.event("app_home_opened")
    @guarded
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        # Bolt has acknowledged the event before this runs (on the listener pool), so the reads
        # behind the view never hold up Slack's request.
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str) or not user:
            return  # the Messages tab (the fine-tunes' direct messages) has nothing to publish
        homes.publish(client, user)

    @app.action(ids.HOME_FINETUNE)
    @guarded
    def finetune_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        user = body["user"]["id"]
        if not services.ledger.claim(f"action:{user}:{action['action_ts']}"):
            return  # a retry of a click already handled
        homes.finetune_clicked(client, user)
