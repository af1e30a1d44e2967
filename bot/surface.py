"""The Slack side of a comparison: its channel message, kept showing where the comparison is
(generating, the vote, the results, a failure), and while it is generated, its progress streamed
into that message's thread. It is the generation flow's listener, and what the listeners and the
scheduled jobs call to show a comparison."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import messages
from bot.blocks import stream
from bot.blocks.progress import failed_message, generation_failed, progress_message
from bot.blocks.results import results_message
from bot.blocks.vote import vote_message
from bot.streams import ProgressStreams
from bot.workers import MessageUpdater
from coderank.comparisons import Comparisons
from coderank.generation import GenerationRequest
from coderank.models import FAILED, Comparison

log = logging.getLogger(__name__)

SOURCE = "slack"


def message_of(surface: Mapping[str, str]) -> tuple[str, str] | None:
    """The (channel, ts) of a comparison's Slack message, or None if it has none."""
    channel, ts = surface.get("channel"), surface.get("ts")
    return (channel, ts) if channel and ts else None


def render(comparison: Comparison, *, checks: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """The vote while it is open (with the checks if ``checks``), the results once closed."""
    if comparison.closed:
        return results_message(comparison)
    return vote_message(comparison, checks=checks)


class SlackSurface:
    """Shows comparisons in their Slack messages, through the coalescing ``updater``, and streams
    their generation into the messages' threads through ``streams`` (None: no streaming)."""

    def __init__(
        self,
        updater: MessageUpdater,
        comparisons: Comparisons,
        streams: ProgressStreams | None = None,
        *,
        checks_while_voting: bool = False,
    ) -> None:
        self.updater = updater
        self.comparisons = comparisons
        self.streams = streams
        self.checks_while_voting = checks_while_voting

    def posted(self, request: GenerationRequest) -> None:
        """``request``'s message is posted: its progress is streamed into the message's thread
        too (before the generation is queued, so the stream hears every step)."""
        if self.streams is not None:
            self.streams.open(request, stream.generating({}))

    def close(self) -> None:
        """Send the stream calls still queued."""
        if self.streams is not None:
            self.streams.close()

    def show(self, comparison: Comparison) -> None:
        """The vote while it is open, the results once closed; nothing for a comparison not
        started in Slack. What is sent is rendered again from the comparison as it is at send
        time, so a late tally (of this replica or another) never brings the buttons back."""
        where = message_of(comparison.surface) if comparison.source == SOURCE else None
        if where is None or comparison.pair is None or comparison.status == FAILED:
            return
        cid = comparison.comparison_id
        checks = self.checks_while_voting
        text, blocks = render(comparison, checks=checks)
        self.updater.push(
            *where,
            text=text,
            blocks=blocks,
            final=comparison.closed,
            refresh=lambda: render(self.comparisons.get(cid), checks=checks),
        )

    def _status(self, request: GenerationRequest, status: str | None = None, **kw: int) -> None:
        where = message_of(request.surface)
        if where is None:
            return
        text, blocks = progress_message(
            requester=request.requester,
            problem=request.problem,
            finished={},
            status=status,
            queued_ahead=kw.get("ahead", 0),
        )
        self.updater.push(*where, text=text, blocks=blocks)

    # --- GenerationListener -----------------------------------------------------------------

    def queued(self, request: GenerationRequest, ahead: int) -> None:
        self._status(request, ahead=ahead)
        if self.streams is not None:
            self.streams.update(request, stream.generating({}, queued=True))

    def progress(self, request: GenerationRequest, finished: Mapping[str, bool]) -> None:
        if self.streams is not None:
            self.streams.update(request, stream.generating(finished))
        where = message_of(request.surface)
        if where is not None:
            text, blocks = progress_message(
                requester=request.requester, problem=request.problem, finished=finished
            )
            self.updater.push(*where, text=text, blocks=blocks)

    def ready(self, request: GenerationRequest, comparison: Comparison) -> None:
        self.show(comparison)
        if self.streams is not None:
            answered = {answer.agent: answer.ok for answer in comparison.answers}
            self.streams.stop(request, text=messages.STREAM_READY, statuses=stream.chosen(answered))

    def failed(self, request: GenerationRequest, error: str) -> None:
        if self.streams is not None:
            text = "⚠️ " + generation_failed(error)
            self.streams.stop(request, text=text, failed=True)
        where = message_of(request.surface)
        if where is not None:
            text, blocks = failed_message(
                requester=request.requester, problem=request.problem, error=error
            )
            self.updater.push(*where, text=text, blocks=blocks, final=True)

    def paused(self, request: GenerationRequest) -> None:
        self._status(request, messages.PAUSED_BY_RESTART)
        if self.streams is not None:
            self.streams.stop(request, text=messages.PAUSED_BY_RESTART)

    def resumed(self, request: GenerationRequest) -> None:
        self._status(request, messages.RESUMED_AFTER_RESTART)
        if self.streams is not None:  # the stream before the restart is gone: a new one
            self.streams.open(request, stream.generating({}))
