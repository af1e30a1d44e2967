"""What is streamed into the thread of a comparison's message while it is generated: a plan with
one task per agent and one for the reranker (Slack's ``task_update`` chunks).

Only who is working and who is done is streamed, never an answer: the answers are shown, blind,
once the pair is chosen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.messages.chunk import MarkdownTextChunk, PlanUpdateChunk, TaskUpdateChunk

from bot import messages
from coderank.agents.prompts import AGENTS, LABELS

RERANKER = "reranker"
TASKS = (*AGENTS, RERANKER)
PENDING, RUNNING, DONE, FAILED = "pending", "in_progress", "complete", "error"
TITLES = {**{agent: LABELS[agent] for agent in AGENTS}, RERANKER: messages.STREAM_RERANKER}

Statuses = dict[str, str]  # task id -> status


def generating(finished: Mapping[str, bool], *, queued: bool = False) -> Statuses:
    """While the agents work: ``finished`` maps agent -> answered (True) or failed (False); the
    others are working (waiting, if ``queued``). The reranker starts when every agent is done."""
    statuses = {
        agent: (DONE if finished[agent] else FAILED)
        if agent in finished
        else (PENDING if queued else RUNNING)
        for agent in AGENTS
    }
    statuses[RERANKER] = RUNNING if len(finished) == len(AGENTS) else PENDING
    return statuses


def chosen(answered: Mapping[str, bool]) -> Statuses:
    """The pair is chosen: ``answered`` maps agent -> whether it answered."""
    return {**{a: DONE if answered.get(a) else FAILED for a in AGENTS}, RERANKER: DONE}


def failed(current: Mapping[str, str]) -> Statuses:
    """No comparison could be made: every task not done failed."""
    return {task: DONE if current.get(task) == DONE else FAILED for task in TASKS}


def task_chunks(before: Mapping[str, str], after: Mapping[str, str]) -> list[dict[str, Any]]:
    """A ``task_update`` chunk for each task whose status changed from ``before`` to ``after``."""
    return [
        TaskUpdateChunk(
            id=task,
            title=TITLES[task],
            status=status,
            output=messages.STREAM_OUTPUTS.get((task == RERANKER, status)),
        ).to_dict()
        for task, status in after.items()
        if before.get(task) != status
    ]


def opening_chunks(statuses: Mapping[str, str]) -> list[dict[str, Any]]:
    """The plan's title and its tasks, as the stream starts."""
    return [PlanUpdateChunk(title=messages.STREAM_TITLE).to_dict(), *task_chunks({}, statuses)]


def text_chunk(text: str) -> dict[str, Any]:
    """Markdown text after the plan (how it ended)."""
    return MarkdownTextChunk(text=text).to_dict()
