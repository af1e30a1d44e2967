"""The comparison graph end to end on a real SQLite checkpointer and store, with scripted agents."""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from coderank.config import Settings
from coderank.errors import (
    GenerationError,
    InvalidProblemError,
    InvalidVoteError,
    UnknownComparisonError,
    VotingClosedError,
)
from coderank.graph.checkpoint import sqlite_path
from coderank.services import Services, build_services
from coderank.store import (
    COLLECTIONS,
    COMPARISONS,
    EXECUTIONS,
    FEEDBACK,
    RERANKER_SCORES,
    RESPONSES,
)
from coderank.store.sqlite import SQLiteStore
from harness.fakes import LengthReranker, fake_agents
from harness.settings import ROOT, make_env, make_settings


def start(services: Services, problem: str = "Write f(n) returning n") -> dict:
    return services.comparisons.start(problem, requester="alice", source="test")


def test_start_stops_at_the_vote_with_everything_stored(services: Services) -> None:
    steps: list[str] = []
    comparison = services.comparisons.start(
        "Write f", requester="alice", source="test", on_progress=lambda n, _: steps.append(n)
    )
    cid = comparison.comparison_id
    assert steps[0] == "begin"
    # The Tester runs beside the agents (here there is none: it adds no tests).
    assert sorted(steps[1:5]) == ["concise_fixer", "explainer", "optimizer", "tester"]
    assert steps[5:] == ["score", "execute", "choose_pair"]
    snapshot = services.comparisons.graph.get_state({"configurable": {"thread_id": cid}})
    assert snapshot.next == ("await_vote",)
    pair = comparison.pair
    assert pair is not None and snapshot.interrupts[0].value["pair"] == pair.to_dict()
    assert pair.a != pair.b and 0 < pair.probability <= 1
    assert comparison.status == "voting" and comparison.voting
    responses = list(services.store.find(RESPONSES, {"comparison_id": cid}))
    assert {r["_id"] for r in responses} == {f"{cid}:{a}" for a in comparison.scores}
    assert all(r["status"] == "ok" and r["code"] for r in responses)
    scores = list(services.store.find(RERANKER_SCORES, {"comparison_id": cid}))
    assert len(scores) == 3 and {s["model_id"] for s in scores} == {"fake-length-reranker"}
    assert services.store.count(FEEDBACK) == 0
    runs = list(services.store.find(EXECUTIONS, {"comparison_id": cid}))  # bwrap, for real
    assert {r["agent"] for r in runs} == set(comparison.scores)
    assert all(r["parsed"] and r["ran"] and r["sandbox"] for r in runs), runs


def test_starting_an_existing_comparison_again_runs_nothing(services: Services) -> None:
    first = services.comparisons.start("Write f", requester="a", source="test", comparison_id="c1")
    services.comparisons.vote("c1", user="bob", choice="A")
    again = services.comparisons.start("Other", requester="b", source="test", comparison_id="c1")
    assert again.pair == first.pair and again.problem == "Write f"
    assert again.votes == {"bob": "A"}
    assert services.store.count(RESPONSES) == 3


def test_a_vote_is_stored_with_the_pair_and_replaced_by_a_second_vote(services: Services) -> None:
    comparison = start(services)
    cid, pair = comparison.comparison_id, comparison.pair
    assert pair is not None
    first = services.comparisons.vote(cid, user="bob", choice="A")
    assert first.changed and first.voters == 1 and not first.closed
    doc = services.store.get(FEEDBACK, f"{cid}:bob")
    assert doc["choice"] == "A"
    assert (doc["agent_a"], doc["agent_b"]) == (pair.a, pair.b)
    assert doc["pair_probability"] == pair.probability
    assert doc["score_a"] == comparison.scores[pair.a]
    assert doc["reranker_model"] == "fake-length-reranker"
    services.comparisons.vote(cid, user="bob", choice="B")
    assert services.store.count(FEEDBACK, {"comparison_id": cid}) == 1
    assert services.store.get(FEEDBACK, f"{cid}:bob")["choice"] == "B"
    assert services.comparisons.get(cid).votes == {"bob": "B"}
    stored = services.store.get(COMPARISONS, cid)
    assert stored["votes"] == {"bob": "B"} and stored["status"] == "voting"


def test_a_repeated_click_is_not_resent_to_the_graph(services: Services) -> None:
    cid = start(services).comparison_id
    config = {"configurable": {"thread_id": cid}}
    services.comparisons.vote(cid, user="bob", choice="A")
    checkpoints = len(list(services.comparisons.graph.get_state_history(config)))
    again = services.comparisons.vote(cid, user="bob", choice="A")
    assert not again.changed
    assert len(list(services.comparisons.graph.get_state_history(config))) == checkpoints
    services.comparisons.vote(cid, user="carol", choice="B")
    assert services.comparisons.get(cid).votes == {"bob": "A", "carol": "B"}


def test_close_reveals_the_outcome_and_later_votes_are_refused(services: Services) -> None:
    comparison = start(services)
    cid = comparison.comparison_id
    for user, choice in [("u1", "A"), ("u2", "A"), ("u3", "B")]:
        services.comparisons.vote(cid, user=user, choice=choice)
    final = services.comparisons.close(cid, user="alice")
    assert final.closed and final.closed_by == "alice" and final.closed_how == "requester"
    assert final.outcome == "A"
    assert final.reranker_agrees == (comparison.score_a > comparison.score_b)
    stored = services.store.get(COMPARISONS, cid)
    assert (stored["status"], stored["majority"], stored["closed_how"]) == (
        "closed",
        "A",
        "requester",
    )
    assert stored["tally"] == {"A": 2, "B": 1, "tie": 0, "both_bad": 0}
    assert stored["reranker_agrees"] == final.reranker_agrees and stored["closed_at"]
    with pytest.raises(VotingClosedError):
        services.comparisons.vote(cid, user="u4", choice="B")
    with pytest.raises(VotingClosedError):
        services.comparisons.close(cid, user="alice")
    assert services.store.count(FEEDBACK, {"comparison_id": cid}) == 3


def test_quorum_closes_voting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, VOTE_QUORUM="2")
    services = build_services(settings, agents=fake_agents(), reranker=LengthReranker())
    try:
        cid = start(services).comparison_id
        assert not services.comparisons.vote(cid, user="u1", choice="tie").closed
        result = services.comparisons.vote(cid, user="u2", choice="tie")
        assert result.closed and result.voters == 2
        assert result.comparison.outcome == "tie" and result.comparison.closed_how == "quorum"
        assert services.store.get(COMPARISONS, cid)["status"] == "closed"
    finally:
        services.close()


def test_unknown_comparison_is_refused_without_starting_a_run(services: Services) -> None:
    with pytest.raises(UnknownComparisonError):
        services.comparisons.vote("c-never-started", user="bob", choice="A")
    snapshot = services.comparisons.graph.get_state(
        {"configurable": {"thread_id": "c-never-started"}}
    )
    assert not snapshot.values
    assert all(services.store.count(c) == 0 for c in COLLECTIONS)


def test_bad_votes_and_problems_change_nothing(services: Services) -> None:
    cid = start(services).comparison_id
    with pytest.raises(InvalidVoteError):
        services.comparisons.vote(cid, user="bob", choice="C")
    with pytest.raises(InvalidProblemError):
        services.comparisons.start("   ", requester="a", source="test")
    with pytest.raises(InvalidProblemError, match="4,000"):
        services.comparisons.start("x" * 4001, requester="a", source="test")
    assert services.store.count(FEEDBACK) == 0
    assert services.store.count(RESPONSES) == 3


def test_one_failing_agent_does_not_stop_the_others(settings: Settings) -> None:
    agents = fake_agents(failing=["explainer"])
    services = build_services(settings, agents=agents, reranker=LengthReranker())
    try:
        comparison = start(services)
        assert set(comparison.scores) == {"concise_fixer", "optimizer"}
        assert comparison.pair is not None
        assert {comparison.pair.a, comparison.pair.b} == {"concise_fixer", "optimizer"}
        failed = services.store.get(RESPONSES, f"{comparison.comparison_id}:explainer")
        assert failed["status"] == "error" and "unreachable" in failed["error"]
        assert agents["explainer"].chain.steps[1].calls == 2  # one retry
    finally:
        services.close()


def test_fewer_than_two_answers_ends_with_a_clear_error_and_no_vote(settings: Settings) -> None:
    services = build_services(
        settings,
        agents=fake_agents(failing=["explainer", "optimizer"]),
        reranker=LengthReranker(),
    )
    try:
        with pytest.raises(GenerationError, match="only 1 of 3 agents answered"):
            start(services)
        assert services.store.count(RESPONSES) == 3  # the failures are kept too
        assert services.store.count(RERANKER_SCORES) == 0
        (cid,) = {d["comparison_id"] for d in services.store.find(RESPONSES)}
        stored = services.store.get(COMPARISONS, cid)
        assert stored["status"] == "failed" and "only 1 of 3" in stored["error"]
        assert stored["closed_at"] and stored["pair"] is None
        with pytest.raises(VotingClosedError):
            services.comparisons.vote(cid, user="bob", choice="A")
    finally:
        services.close()


def test_a_model_crash_fails_the_comparison_with_its_reason_and_is_not_retried(
    settings: Settings,
) -> None:
    """Two agents answered, but the model process died under the third: the comparison fails
    with why, rather than carrying on with a pair made while the model was going away."""
    agents = fake_agents(crashing=["optimizer"])
    services = build_services(settings, agents=agents, reranker=LengthReranker())
    try:
        with pytest.raises(GenerationError, match="stopped by SIGKILL while generating"):
            start(services)
        assert agents["optimizer"].chain.steps[1].calls == 1  # a crash is not retried
        crashed = services.store.get(RESPONSES, f"{next(iter(_ids(services)))}:optimizer")
        assert crashed["status"] == "error" and "SIGKILL" in crashed["error"]
        assert services.store.count(RERANKER_SCORES) == 0
    finally:
        services.close()


def _ids(services: Services) -> set[str]:
    return {d["comparison_id"] for d in services.store.find(RESPONSES)}


def test_twenty_concurrent_voters_lose_no_vote(services: Services) -> None:
    cid = start(services).comparison_id
    rng = random.Random(5)
    expected = {f"user{i}": rng.choice(["A", "B", "tie", "both_bad"]) for i in range(20)}
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def vote(user: str, choice: str) -> None:
        barrier.wait()
        try:
            services.comparisons.vote(cid, user=user, choice=choice)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=item) for item in expected.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert services.comparisons.get(cid).votes == expected
    assert services.store.get(COMPARISONS, cid)["votes"] == expected
    stored = {d["user"]: d["choice"] for d in services.store.find(FEEDBACK, {"comparison_id": cid})}
    assert stored == expected


def test_without_the_lock_concurrent_resumes_fork_the_thread(services: Services) -> None:
    """Why the lock exists: raw concurrent resumes on one thread lose votes."""
    cid = start(services).comparison_id
    config = {"configurable": {"thread_id": cid}}
    barrier = threading.Barrier(8)

    def raw(user: str) -> None:
        barrier.wait()
        services.comparisons.graph.invoke(Command(resume={"user": user, "choice": "A"}), config)

    threads = [threading.Thread(target=raw, args=(f"u{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(services.comparisons.get(cid).votes) < 8


def in_another_process(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "tests.graph_process", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_a_comparison_started_in_one_process_takes_votes_in_another(tmp_path: Path) -> None:
    env = json.dumps(make_env(tmp_path, VOTE_QUORUM="0"))
    cid = in_another_process("start", env)
    assert json.loads(in_another_process("vote", env, cid)) == {"voters": 1, "outcome": "B"}


class Counting:
    """Counts the calls of an agent."""

    def __init__(self, agent: Any) -> None:
        self.agent, self.calls = agent, 0

    def answer(self, problem: str) -> Any:
        self.calls += 1
        return self.agent.answer(problem)


def checkpointed_answers(checkpointer: SqliteSaver, thread_id: str) -> list[str]:
    """The agents whose answers the latest checkpoint of ``thread_id`` holds: the writes of the
    step that runs the agents are saved one by one as each agent ends."""
    saved = checkpointer.get_tuple({"configurable": {"thread_id": thread_id}})
    if saved is None:
        return []
    return [
        answer["agent"]
        for _task, channel, value in saved.pending_writes or []
        if channel == "answers"
        for answer in value
    ]


def test_a_run_cut_off_by_a_killed_process_continues_from_its_checkpoint(tmp_path: Path) -> None:
    env = make_env(tmp_path, VOTE_QUORUM="0")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.graph_process", "start-slow", json.dumps(env), "ckill"],
        cwd=ROOT,
    )
    settings = make_settings(tmp_path, VOTE_QUORUM="0")
    store = SQLiteStore(settings.sqlite_path)
    try:
        deadline = time.monotonic() + 60
        while store.count(RESPONSES, {"comparison_id": "ckill"}) < 1:  # the fast agent answered
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        # Its checkpoint write lands right after the response is stored: wait for it there.
        path = sqlite_path(settings.checkpoint_url)
        assert path is not None
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            checkpoints = SqliteSaver(conn)  # the process's own checkpoints, read from here
            while checkpointed_answers(checkpoints, "ckill") != ["concise_fixer"]:
                assert process.poll() is None
                assert time.monotonic() < deadline, "its answer never reached the checkpoint"
                time.sleep(0.05)
    finally:
        process.kill()  # as a crash or an OOM kill would, mid-generation
        process.wait()
    agents = {name: Counting(agent) for name, agent in fake_agents().items()}
    services = build_services(settings, agents=agents, reranker=LengthReranker(), store=store)
    try:
        comparison = services.comparisons.start(
            "Write f", requester="alice", source="test", comparison_id="ckill"
        )
        assert (
            comparison.pair
            and services.comparisons.graph.get_state(
                {"configurable": {"thread_id": "ckill"}}
            ).interrupts
        )
        assert {name: a.calls for name, a in agents.items()} == {
            "concise_fixer": 0,  # its answer from the killed process was kept
            "explainer": 1,
            "optimizer": 1,
        }
        assert store.count(RESPONSES, {"comparison_id": "ckill"}) == 3
    finally:
        services.close()
