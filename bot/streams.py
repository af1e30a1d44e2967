"""A generation's progress streamed into the thread of its channel message with Slack's streaming
messages (``chat.startStream`` / ``appendStream`` / ``stopStream``, through slack_sdk's
``chat_stream`` helper): one task per agent and one for the reranker.

Best effort: the channel message shows the same progress. Every call runs in order on one thread
of its own, so a slow or rate-limited Slack never holds a generation up. If Slack refuses to start
a stream (a workspace without streaming, a token not allowed to), that is logged once and no
stream is tried again until the bot restarts; a passing failure (rate limited after the client's
retries, Slack or the network down) skips that stream only, and a stream that breaks later (Slack
ends streams after a few minutes) is dropped. Either way the comparison goes on as before."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.chat_stream import ChatStream

from bot.blocks import stream as chunks
from coderank.generation import GenerationRequest

log = logging.getLogger(__name__)

# What a stream call can fail with: Slack's answer (SlackApiError), or the connection.
FAILURES = (SlackClientError, OSError)
# Slack's answers that say nothing of whether streaming is allowed: only that stream is skipped.
PASSING = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"}
)


@dataclass
class _Stream:
    chat: ChatStream
    statuses: dict[str, str]  # as streamed so far


def thread_of(request: GenerationRequest) -> tuple[str, str, str] | None:
    """(channel, message ts, team) a request's progress is streamed under, or None (Slack needs
    the team of the user a channel stream is for; requests of older versions did not keep it)."""
    where = request.surface
    channel, ts, team = where.get("channel"), where.get("ts"), where.get("team")
    return (channel, ts, team) if channel and ts and team else None


def _reason(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    error = response.get("error") if response is not None else None
    return str(error) if error else type(exc).__name__


class ProgressStreams:
    """The progress streams of this process's generations, by comparison id."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._streams: dict[str, _Stream] = {}  # touched on the worker thread only
        self.refused: str | None = None  # why Slack refused to start a stream, once it did
        self._warned: set[tuple[str, str]] = set()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="progress-stream")

    def open(self, request: GenerationRequest, statuses: Mapping[str, str]) -> None:
        """Start streaming ``request``'s progress under its message (once per comparison)."""
        self._run(lambda: self._open(request, dict(statuses)))

    def update(self, request: GenerationRequest, statuses: Mapping[str, str]) -> None:
        """Stream the tasks whose status changed."""
        self._run(lambda: self._update(request.comparison_id, dict(statuses)))

    def stop(
        self,
        request: GenerationRequest,
        *,
        text: str,
        statuses: Mapping[str, str] | None = None,
        failed: bool = False,
    ) -> None:
        """End the stream with ``statuses`` (or, if ``failed``, every task not done failed) and
        ``text`` (Markdown)."""
        final = dict(statuses or {})
        self._run(lambda: self._stop(request.comparison_id, text, final, failed))

    def close(self) -> None:
        """Send what is queued, then stop the worker."""
        self._worker.shutdown(wait=True)

    # --- on the worker thread -----------------------------------------------------------

    def _run(self, job: Callable[[], None]) -> None:
        try:
            future = self._worker.submit(job)
        except RuntimeError:  # shutting down: nothing more is streamed
            return
        future.add_done_callback(_log_bug)

    def _open(self, request: GenerationRequest, statuses: dict[str, str]) -> None:
        where = thread_of(request)
        if self.refused is not None or where is None or request.comparison_id in self._streams:
            return
        channel, ts, team = where
        chat = self.client.chat_stream(
            channel=channel,
            thread_ts=ts,
            recipient_user_id=request.requester,
            recipient_team_id=team,
            task_display_mode="plan",
        )
        try:
            chat.append(chunks=chunks.opening_chunks(statuses))  # chat.startStream
        except FAILURES as exc:
            reason = _reason(exc)
            if not isinstance(exc, SlackApiError) or reason in PASSING:
                self._note(request.comparison_id, "chat.startStream", reason)
                return
            self.refused = reason
            log.warning(
                "Slack refused to stream progress (chat.startStream: %s); progress is shown in "
                "the comparison's message only until the bot restarts",
                reason,
            )
            return
        self._streams[request.comparison_id] = _Stream(chat, statuses)

    def _update(self, cid: str, statuses: dict[str, str]) -> None:
        stream = self._streams.get(cid)
        changed = chunks.task_chunks(stream.statuses, statuses) if stream else []
        if stream is None or not changed:
            return
        try:
            stream.chat.append(chunks=changed)  # chat.appendStream
        except FAILURES as exc:
            self._lost(cid, "chat.appendStream", exc)
            return
        stream.statuses.update(statuses)

    def _stop(self, cid: str, text: str, statuses: dict[str, str], failed: bool) -> None:
        stream = self._streams.pop(cid, None)
        if stream is None:
            return
        final = chunks.failed(stream.statuses) if failed else {**stream.statuses, **statuses}
        try:
            stream.chat.stop(  # chat.stopStream
                chunks=[*chunks.task_chunks(stream.statuses, final), chunks.text_chunk(text)]
            )
        except FAILURES as exc:
            self._lost(cid, "chat.stopStream", exc)

    def _lost(self, cid: str, method: str, exc: BaseException) -> None:
        """A stream Slack no longer takes: dropped."""
        self._streams.pop(cid, None)
        self._note(cid, method, _reason(exc))

    def _note(self, cid: str, method: str, reason: str) -> None:
        """Log a stream that failed, as a warning once per kind of failure."""
        level = logging.DEBUG if (method, reason) in self._warned else logging.WARNING
        self._warned.add((method, reason))
        log.log(level, "no progress stream for %s (%s: %s)", cid, method, reason)


def _log_bug(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:  # a bug, not Slack: the generation goes on regardless
        log.error("progress stream job failed", exc_info=exc)
