"""Coalesced updates of Slack messages."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coderank.errors import CoderankError

log = logging.getLogger(__name__)

Refresh = Callable[[], tuple[str, list[dict[str, Any]]]]


class MessageUpdater:
    """``chat.update`` of one message at most once per ``interval_s``; the latest content wins.

    Rate-limited (429) calls are retried by the client's ``RateLimitErrorRetryHandler``.
    """

    def __init__(self, client: WebClient, *, interval_s: float = 1.0) -> None:
        self.client = client
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._timers: dict[tuple[str, str], threading.Timer] = {}
        self._last: dict[tuple[str, str], float] = {}
        self._sending: dict[tuple[str, str], threading.Lock] = {}
        self._final: set[tuple[str, str]] = set()

    def push(
        self,
        channel: str,
        ts: str,
        *,
        text: str,
        blocks: list[dict[str, Any]],
        final: bool = False,
        refresh: Refresh | None = None,
    ) -> None:
        """Show ``text``/``blocks`` in the message soon. Once a ``final`` content (results, a
        failure) is pushed, later non-final pushes (a tally computed just before closing) are
        dropped, so they cannot put the vote buttons back. ``refresh``, when given, renders the
        content again at send time from the shared state (another replica may have closed the
        comparison since), and what it returns is sent instead."""
        key = (channel, ts)
        with self._lock:
            if key in self._final and not final:
                return
            if final:
                self._final.add(key)
            self._pending[key] = {"text": text, "blocks": blocks, "refresh": refresh}
            if key in self._timers:
                return
            delay = max(0.0, self._last.get(key, 0.0) + self.interval_s - time.monotonic())
            timer = threading.Timer(delay, self._send, args=(key,))
            timer.daemon = True
            self._timers[key] = timer
            timer.start()

    def _send(self, key: tuple[str, str]) -> None:
        with self._lock:
            sending = self._sending.setdefault(key, threading.Lock())
        with sending:
            with self._lock:
                self._timers.pop(key, None)
                payload = self._pending.pop(key, None)
                self._last[key] = time.monotonic()
            if payload is None:
                return
            refresh = payload.pop("refresh", None)
            if refresh is not None:
                try:
                    text, blocks = refresh()
                    payload.update(text=text, blocks=blocks)
                except CoderankError as exc:  # keep what was pushed; say why it is not newer
                    log.warning("could not render %s again at send time: %s", key, exc)
            try:
                self.client.chat_update(channel=key[0], ts=key[1], **payload)
            except SlackApiError as exc:
                log.error("chat.update of %s failed: %s", key, exc.response.get("error"))

    def flush(self) -> None:
        """Send every pending update now (used at shutdown and by tests)."""
        with self._lock:
            keys = list(self._timers)
            for key in keys:
                self._timers[key].cancel()
        for key in keys:
            self._send(key)
