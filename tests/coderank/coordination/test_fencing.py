"""The checkpointer's fence (SQLSTATE CR001): a resume that raced another writer is refused,
never forked, and ``Comparisons.vote`` retries it so the vote is kept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.types import Command

from coderank.coordination.postgres import Postgres, fenced_saver
from coderank.errors import CheckpointMovedError, CoderankError
from coderank.graph.votes import parse_resume
from coderank.store import Store
from tests.coderank.coordination.harness import (
    Admin,
    NoLocks,
    comparisons_over,
    document_votes,
    feedback_votes,
    forks,
)


def checkpoint(checkpoint_id: str | None = None) -> Any:
    made = empty_checkpoint()
    if checkpoint_id:
        made["id"] = checkpoint_id
    return made


def test_a_second_child_of_one_checkpoint_is_refused(
    replicas: Callable[[], Postgres], admin: Admin
) -> None:
    saver = fenced_saver(replicas())
    root = saver.put(
        {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}, checkpoint(), {}, {}
    )
    newest = saver.put(root, checkpoint(), {}, {})  # the thread moves on from root

    with pytest.raises(CheckpointMovedError, match="moved on"):
        saver.put(root, checkpoint(), {}, {})  # written by one that read root before

    assert forks(admin, "t1") == []
    assert saver.get_tuple({"configurable": {"thread_id": "t1"}}).config == newest


def test_a_checkpoint_that_would_sort_before_its_parent_is_refused(
    replicas: Callable[[], Postgres],
) -> None:
    """A replica whose clock is behind makes checkpoint ids older than their parent: LangGraph
    would take the parent as the newest, and the step would be lost."""
    saver = fenced_saver(replicas())
    root = saver.put(
        {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}, checkpoint(), {}, {}
    )

    with pytest.raises(CheckpointMovedError):
        saver.put(root, checkpoint("00000000-0000-6000-8000-000000000000"), {}, {})

    assert saver.get_tuple({"configurable": {"thread_id": "t1"}}).config == root


def test_a_resume_from_a_checkpoint_the_thread_moved_on_from_is_refused(
    replicas: Callable[[], Postgres], store: Store, admin: Admin
) -> None:
    comparisons = comparisons_over(replicas(), store)
    cid = comparisons.start("Write f", requester="ann", source="cli").comparison_id
    read = comparisons.graph.get_state({"configurable": {"thread_id": cid}})  # a slow replica's
    comparisons.vote(cid, user="ann", choice="A")

    with pytest.raises(CheckpointMovedError):
        comparisons.graph.invoke(
            Command(resume=parse_resume({"user": "bob", "choice": "B"})),
            read.config,
            durability="sync",
        )

    assert comparisons.get(cid).votes == {"ann": "A"}
    assert forks(admin, cid) == []
    assert feedback_votes(store, cid) == document_votes(store, cid) == {"ann": "A"}


def test_a_vote_whose_resume_raced_a_writer_without_the_lock_is_retried_and_kept(
    replicas: Callable[[], Postgres],
    store: Store,
    admin: Admin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between the moment ann's resume reads the thread and its first write, bob's vote is
    recorded by a replica that took no lock: ann's checkpoint is refused, read again, kept."""
    mine = comparisons_over(replicas(), store)
    rogue = comparisons_over(replicas(), store, locks=NoLocks())
    cid = mine.start("Write f", requester="ann", source="cli").comparison_id
    saver: Any = mine.graph.checkpointer
    invoke, get_tuple, put = mine.graph.invoke, saver.get_tuple, saver.put
    resuming, raced = threading.Event(), threading.Event()
    refused: list[CheckpointMovedError] = []
    rogue_told: list[object] = []

    def rogue_vote() -> None:
        try:
            rogue_told.append(rogue.vote(cid, user="bob", choice="B").changed)
        except CoderankError as exc:  # shown by the assertion below
            rogue_told.append(exc)

    def resume(*args: Any, **kwargs: Any) -> Any:
        resuming.set()
        return invoke(*args, **kwargs)

    def read_then_race(*args: Any) -> Any:
        read = get_tuple(*args)
        if resuming.is_set() and not raced.is_set():  # the resume has just read the thread
            raced.set()
            racer = threading.Thread(target=rogue_vote, daemon=True)
            racer.start()
            racer.join(timeout=30)
        return read

    def refusable_put(*args: Any) -> Any:
        try:
            return put(*args)
        except CheckpointMovedError as exc:
            refused.append(exc)
            raise

    monkeypatch.setattr(mine.graph, "invoke", resume)
    monkeypatch.setattr(saver, "get_tuple", read_then_race)
    monkeypatch.setattr(saver, "put", refusable_put)
    result = mine.vote(cid, user="ann", choice="A")

    assert rogue_told == [True]
    assert len(refused) == 1
    assert result.changed and result.comparison.votes == {"ann": "A", "bob": "B"}
    assert mine.get(cid).votes == {"ann": "A", "bob": "B"}
    assert forks(admin, cid) == []
    assert feedback_votes(store, cid) == document_votes(store, cid) == {"ann": "A", "bob": "B"}
