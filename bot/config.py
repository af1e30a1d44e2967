"""Slack settings, read once from the environment (and ``.env``) and passed down, frozen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from coderank.config import read_env
from coderank.errors import ConfigError


@dataclass(frozen=True)
class SlackSettings:
    """What the bot needs to talk to Slack. Tokens are kept out of ``repr``."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    port: int = 3000
    gen_workers: int = 2
    admins: frozenset[str] = frozenset()
    digest_channel: str | None = None
    # Stream each generation's progress into the thread of its message (SLACK_STREAM_PROGRESS).
    stream_progress: bool = True
    # At most one chat.update of a message per this many seconds (SLACK_UPDATE_INTERVAL_S): the
    # progress of a comparison is coalesced into one update a second, within Slack's rate limits.
    update_interval_s: float = 1.0

    def secrets(self) -> tuple[str, ...]:
        """The tokens and the signing secret, for the log filter to scrub."""
        return tuple(s for s in (self.bot_token, self.signing_secret, self.app_token) if s)


def from_env(
    environ: Mapping[str, str] | None = None, *, env_file: str | os.PathLike[str] | None = ".env"
) -> SlackSettings:
    """Build :class:`SlackSettings`.

    Raises:
        ConfigError: naming the missing or wrong variable (never echoing a secret).
    """
    env = read_env(environ, env_file=env_file)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    bot_token, secret = get("SLACK_BOT_TOKEN"), get("SLACK_SIGNING_SECRET")
    if not bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is missing: set it to the app's Bot User OAuth Token (xoxb-...)"
        )
    if not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN is not valid: expected a bot token starting with xoxb-")
    if not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is missing: set it to the app's Signing Secret")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN is not valid: expected an app-level token starting with xapp-"
        )
    api_url = get("SLACK_API_URL")
    if api_url and not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"SLACK_API_URL={api_url!r} is not valid: expected an http(s):// URL")
    port = get("PORT") or "3000"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"PORT={port!r} is not valid: expected a port number from 1 to 65535")
    workers = get("GEN_WORKERS") or "2"
    if not workers.isdigit() or not 1 <= int(workers) <= 64:
        raise ConfigError(
            f"GEN_WORKERS={workers!r} is not valid: expected a whole number from 1 to 64"
        )
    admins = frozenset(a.strip() for a in (get("CODERANK_ADMINS") or "").split(",") if a.strip())
    stream = (get("SLACK_STREAM_PROGRESS") or "on").lower()
    if stream not in ("on", "off"):
        raise ConfigError(f"SLACK_STREAM_PROGRESS={stream!r} is not valid: expected on or off")
    interval = get("SLACK_UPDATE_INTERVAL_S") or "1"
    try:
        update_interval_s = float(interval)
    except ValueError:
        update_interval_s = -1.0
    if not 0.05 <= update_interval_s <= 60:
        raise ConfigError(
            f"SLACK_UPDATE_INTERVAL_S={interval!r} is not valid: expected seconds from 0.05 to 60"
        )
    return SlackSettings(
        bot_token=bot_token,
        signing_secret=secret,
        app_token=app_token,
        api_url=api_url.rstrip("/") + "/" if api_url else None,
        port=int(port),
        gen_workers=int(workers),
        admins=admins,
        digest_channel=get("DIGEST_CHANNEL"),
        stream_progress=stream == "on",
        update_interval_s=update_interval_s,
    )
