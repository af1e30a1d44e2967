"""Problems asked from the page run off the page's thread, through ``Comparisons``."""

from __future__ import annotations

import time

import pytest

from coderank.errors import InvalidProblemError
from coderank.services import Services
from coderank.store import COMPARISONS, RESPONSES
from dashboard.asking import AskProgress, Asks
from harness.fakes import fake_agents, slow_agents


def _until_done(asks: Asks, cid: str, timeout_s: float = 10) -> AskProgress:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        progress = asks.progress(cid)
        assert progress is not None
        if progress.done:
            return progress
        time.sleep(0.02)
    raise AssertionError(f"{cid} did not finish")


def test_a_problem_is_generated_in_the_background_and_stored_as_from_the_dashboard(
    services: Services,
) -> None:
    asks = Asks(services)
    try:
        cid = asks.ask("  Write f  ", requester="alice")
        done = _until_done(asks, cid)
    finally:
        asks.shutdown()
    assert (done.stage, done.error, done.problem) == ("ready", None, "Write f")
    assert sorted(done.agents.values()) == [
        "Concise Fixer answered (0.0 s)",
        "Explainer answered (0.0 s)",
        "Optimizer answered (0.0 s)",
    ]
    stored = services.store.get(COMPARISONS, cid)
    assert stored is not None
    assert (stored["source"], stored["requester"], stored["status"]) == (
        "dashboard",
        "alice",
        "voting",
    )
    assert services.store.count(RESPONSES, {"comparison_id": cid}) == 3


def test_progress_is_told_while_the_agents_work(services: Services) -> None:
    from coderank.services import build_services
    from harness.fakes import LengthReranker

    slow = build_services(services.settings, agents=slow_agents(0.3), reranker=LengthReranker())
    asks = Asks(slow)
    try:
        cid = asks.ask("Write f", requester="alice")
        seen = set()
        while not (progress := asks.progress(cid)) or not progress.done:
            if progress is not None:
                seen.add(progress.stage)
            time.sleep(0.01)
    finally:
        asks.shutdown()
        slow.close()
    assert "generating: 0 of 3 agents done" in seen
    assert progress.stage == "ready"


def test_an_empty_problem_is_refused_before_anything_is_queued(services: Services) -> None:
    asks = Asks(services)
    with pytest.raises(InvalidProblemError, match="the problem is empty"):
        asks.ask(" \u200b ", requester="alice")
    asks.shutdown()
    assert services.store.count(COMPARISONS) == 0


def test_a_failed_generation_says_why(services: Services) -> None:
    from coderank.services import build_services
    from harness.fakes import LengthReranker

    failing = build_services(
        services.settings,
        agents=fake_agents(failing=("explainer", "optimizer"), timeout_s=1),
        reranker=LengthReranker(),
    )
    asks = Asks(failing)
    try:
        cid = asks.ask("Write f", requester="alice")
        done = _until_done(asks, cid)
    finally:
        asks.shutdown()
        failing.close()
    assert done.stage == "failed"
    assert done.error is not None and done.error.startswith("only 1 of 3 agents answered")
    assert "Explainer failed: ConnectionError" in done.agents["explainer"]
