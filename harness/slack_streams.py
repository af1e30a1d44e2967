"""Slack's streaming messages for the Slack Web API test server: ``chat.startStream``,
``chat.appendStream`` and ``chat.stopStream``, checked as Slack documents them, and each stream
recorded by (channel, ts) so tests can read what was streamed and when."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")
TASK_STATUSES = ("pending", "in_progress", "complete", "error")
MARKDOWN_LIMIT = 12_000  # characters of markdown_text in one call
# chunk type -> the fields it must have
CHUNK_FIELDS = {
    "markdown_text": ("text",),
    "task_update": ("id", "title", "status"),
    "plan_update": ("title",),
    "blocks": ("blocks",),
}

Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Stream:
    """One streamed message: where it is, what it was started with, every chunk in order (a
    call's ``markdown_text`` as a ``markdown_text`` chunk) and when it was stopped
    (``time.monotonic()``)."""

    channel: str
    ts: str
    thread_ts: str
    recipient_user_id: str | None
    recipient_team_id: str | None
    task_display_mode: str | None
    chunks: list[dict[str, Any]] = field(default_factory=list)
    stopped_at: float | None = None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def tasks(self) -> dict[str, list[str]]:
        """Each task id's statuses, in the order they were streamed."""
        found: dict[str, list[str]] = {}
        for chunk in self.chunks:
            if chunk["type"] == "task_update":
                found.setdefault(chunk["id"], []).append(chunk["status"])
        return found

    def text(self) -> str:
        """The Markdown text streamed, joined."""
        return "".join(c["text"] for c in self.chunks if c["type"] == "markdown_text")


def _chunks_error(chunks: Any) -> str | None:
    if not isinstance(chunks, list) or not chunks:
        return "invalid_chunks"
    for chunk in chunks:
        if not isinstance(chunk, dict) or chunk.get("type") not in CHUNK_FIELDS:
            return "invalid_chunks"
        if any(not chunk.get(name) for name in CHUNK_FIELDS[chunk["type"]]):
            return "invalid_chunks"
        if chunk["type"] == "task_update" and chunk["status"] not in TASK_STATUSES:
            return "invalid_chunks"
    return None


@dataclass
class StreamRecorder:
    """The three methods' side of the test server. ``refuse(method, error)`` makes Slack answer
    the later calls of ``method`` (all, or the next ``times``) with that error (e.g. a workspace
    without streaming)."""

    streams: dict[tuple[str, str], Stream] = field(default_factory=dict)
    refusals: dict[str, list[Any]] = field(default_factory=dict)  # method -> [error, times left]
    _ts: Any = field(default_factory=lambda: itertools.count(1))

    def refuse(self, method: str, error: str, *, times: int | None = None) -> None:
        self.refusals[method] = [error, times]

    def in_thread(self, channel: str, thread_ts: str) -> list[Stream]:
        return [
            s for s in self.streams.values() if (s.channel, s.thread_ts) == (channel, thread_ts)
        ]

    def answer(self, method: str, params: dict[str, Any]) -> Answer:
        """Called with the server's lock held."""
        refusal = self.refusals.get(method)
        if refusal and refusal[1] != 0:
            refusal[1] = None if refusal[1] is None else refusal[1] - 1
            return _error(refusal[0])
        chunks = params.get("chunks")
        if isinstance(chunks, str):  # a form-encoded call sends the chunks as JSON
            chunks = json.loads(chunks)
        text = params.get("markdown_text")
        if text is not None and not isinstance(text, str):
            return _error("invalid_arguments", "markdown_text must be a string")
        if text is not None and len(text) > MARKDOWN_LIMIT:
            return _error("msg_too_long")
        if chunks is not None and (error := _chunks_error(chunks)):
            return _error(error)
        received = ([{"type": "markdown_text", "text": text}] if text else []) + (chunks or [])
        channel = params.get("channel")
        if method == "chat.startStream":
            return self._start(params, received)
        ts = params.get("ts")
        if not channel or not ts:
            return _error("invalid_arguments", "missing required field: channel or ts")
        stream = self.streams.get((channel, ts))
        if stream is None:
            return _error("message_not_found")
        if stream.stopped:
            return _error("message_not_in_streaming_state")
        if method == "chat.appendStream" and not received:
            return _error("invalid_arguments", "missing required field: markdown_text or chunks")
        stream.chunks.extend(received)
        if method == "chat.stopStream":
            stream.stopped_at = time.monotonic()
            message = {"ts": ts, "thread_ts": stream.thread_ts, "chunks": stream.chunks}
            return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, {}
        return 200, {"ok": True, "channel": channel, "ts": ts}, {}

    def _start(self, params: dict[str, Any], received: list[dict[str, Any]]) -> Answer:
        channel, thread_ts = params.get("channel"), params.get("thread_ts")
        if not channel or not thread_ts:
            return _error("invalid_arguments", "missing required field: channel or thread_ts")
        # Slack: a stream in a channel (not a DM) is for one user, of one team.
        in_dm = str(channel).startswith("D")
        if not in_dm and not (params.get("recipient_user_id") and params.get("recipient_team_id")):
            return _error(
                "invalid_arguments",
                "missing required field: recipient_user_id and recipient_team_id (in a channel)",
            )
        if params.get("task_display_mode") not in (None, "timeline", "plan"):
            return _error("invalid_arguments", "task_display_mode must be timeline or plan")
        ts = f"1700000500.{next(self._ts):06d}"  # apart from the messages' ts
        self.streams[(channel, ts)] = Stream(
            channel=channel,
            ts=ts,
            thread_ts=thread_ts,
            recipient_user_id=params.get("recipient_user_id"),
            recipient_team_id=params.get("recipient_team_id"),
            task_display_mode=params.get("task_display_mode"),
            chunks=received,
        )
        return 200, {"ok": True, "channel": channel, "ts": ts}, {}


def _error(error: str, message: str | None = None) -> Answer:
    """Slack's refusal; ``invalid_arguments`` says which argument in ``response_metadata``."""
    payload: dict[str, Any] = {"ok": False, "error": error}
    if message:
        payload["response_metadata"] = {"messages": [message]}
    return 200, payload, {}
