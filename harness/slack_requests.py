"""Requests shaped and signed the way Slack sends them to the bot's ``/slack/events``."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier

_ids = itertools.count(1)


@dataclass
class HttpResult:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class SlackSender:
    """Posts to the bot as Slack would. ``response_url`` posts go to the Slack API test server."""

    bot_url: str
    signing_secret: str
    response_url_for: Any  # Callable[[str], str]
    team_id: str = "T0TEST"
    sent: list[str] = field(default_factory=list)

    def post(
        self,
        body: str,
        *,
        retry_num: int | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> HttpResult:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature
            or SignatureVerifier(self.signing_secret).generate_signature(timestamp=ts, body=body),
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        request = urllib.request.Request(
            f"{self.bot_url}/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return HttpResult(
                    response.status, response.read().decode(), time.monotonic() - started
                )
        except urllib.error.HTTPError as exc:
            return HttpResult(exc.code, exc.read().decode(), time.monotonic() - started)

    def command_body(
        self,
        text: str,
        *,
        user: str = "U0ALICE",
        channel: str = "C0GENERAL",
        command: str = "/coderank",
        trigger_id: str | None = None,
    ) -> str:
        name = f"cmd{next(_ids)}"
        return urllib.parse.urlencode(
            {
                "token": "verification-token-unused",
                "team_id": self.team_id,
                "team_domain": "coderank-test",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0CODERANK",
                "is_enterprise_install": "false",
                "response_url": self.response_url_for(name),
                "trigger_id": trigger_id or f"{next(_ids)}.trigger.{name}",
            }
        )

    def command(self, text: str, **kwargs: Any) -> HttpResult:
        retry = kwargs.pop("retry_num", None)
        return self.post(self.command_body(text, **kwargs), retry_num=retry)

    def click_body(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        action_ts: str | None = None,
        response_name: str | None = None,
    ) -> str:
        name = response_name or f"click{next(_ids)}"
        payload = {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": self.team_id,
            },
            "api_app_id": "A0CODERANK",
            "token": "verification-token-unused",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{next(_ids)}.trigger.{name}",
            "team": {"id": self.team_id, "domain": "coderank-test"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "general"},
            "message": {"type": "message", "ts": message_ts, "user": "UCODERANK", "text": "vote"},
            "state": {"values": {}},
            "response_url": self.response_url_for(name),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "coderank_votes",
                    "text": {"type": "plain_text", "text": action_id},
                    "value": value,
                    "action_ts": action_ts or f"{time.time():.6f}{next(_ids)}",
                }
            ],
        }
        return urllib.parse.urlencode({"payload": json.dumps(payload)})

    def click(self, action_id: str, value: str, **kwargs: Any) -> HttpResult:
        retry = kwargs.pop("retry_num", None)
        return self.post(self.click_body(action_id, value, **kwargs), retry_num=retry)

    def event_body(self, event: dict[str, Any]) -> str:
        """An Events API ``event_callback`` carrying ``event`` (JSON, as Slack posts it)."""
        return json.dumps(
            {
                "token": "verification-token-unused",
                "team_id": self.team_id,
                "api_app_id": "A0CODERANK",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{next(_ids):08d}",
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "enterprise_id": None,
                        "team_id": self.team_id,
                        "user_id": "UCODERANK",
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "is_ext_shared_channel": False,
            }
        )

    def event(self, event: dict[str, Any], *, retry_num: int | None = None) -> HttpResult:
        return self.post(
            self.event_body(event), retry_num=retry_num, content_type="application/json"
        )

    def home_opened(self, user: str, *, tab: str = "home") -> HttpResult:
        """``app_home_opened``: ``user`` opened the app's Home (or Messages) tab."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user}",
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        return self.event(event)

    def home_click_body(
        self, action_id: str, *, user: str, value: str = "finetune", action_ts: str | None = None
    ) -> str:
        """A click in the app's Home tab: its container is the view (no message, no
        ``response_url``)."""
        view_id = f"VHOME{user}"
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "A0CODERANK",
            "token": "verification-token-unused",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": f"{next(_ids)}.trigger.home",
            "team": {"id": self.team_id, "domain": "coderank-test"},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {"id": view_id, "type": "home", "callback_id": "coderank_home"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "coderank_home_admin",
                    "text": {"type": "plain_text", "text": action_id},
                    "value": value,
                    "action_ts": action_ts or f"{time.time():.6f}{next(_ids)}",
                }
            ],
        }
        return urllib.parse.urlencode({"payload": json.dumps(payload)})

    def home_click(self, action_id: str, **kwargs: Any) -> HttpResult:
        return self.post(self.home_click_body(action_id, **kwargs))
