"""The quality section's figures, from hand-made outcomes (the benchmark makes them by asking the
real models)."""

from __future__ import annotations

import pytest

from coderank.evaluation.metrics import wilson
from harness.bench.quality_figures import (
    ColdAsk,
    ProblemOutcome,
    quality_figures,
    quality_rows,
)

OUTCOMES = [
    ProblemOutcome("p1", {"a": True, "b": False, "c": False}, (True, True, False), 10.0),
    ProblemOutcome(
        "p2", {"a": False, "b": False, "c": False}, (), 20.0, error="only 1 of 3 agents answered"
    ),
    ProblemOutcome("p3", {"a": True, "b": True, "c": False}, (True, True, True, True), 30.0),
    ProblemOutcome("p4", {"a": False, "b": False, "c": False}, (False,), 40.0),
]


def test_figures_count_every_answer_every_comparison_and_every_tester_test() -> None:
    f = quality_figures(OUTCOMES)

    assert f.problems == 4
    assert f.answers == wilson(3, 12)  # every agent's answer counts, failed comparisons too
    assert f.by_agent == {"a": wilson(2, 4), "b": wilson(1, 4), "c": wilson(0, 4)}
    assert list(f.by_agent) == ["a", "b", "c"]
    assert f.any_answer == wilson(2, 4)
    assert f.tester_tests == wilson(6, 8)  # over the tests, not the problems
    assert f.tests_per_problem == pytest.approx(2.0)
    assert f.enough_tests == wilson(2, 4)  # p1 and p3 have at least 3 tests
    assert f.tests_count == {0: 1, 1: 1, 3: 1, 4: 1}
    assert (f.ask_p50, f.ask_p90) == (20.0, 40.0)  # nearest rank
    assert f.failed == 1


def test_no_outcomes_is_an_error() -> None:
    with pytest.raises(ValueError, match="no problems"):
        quality_figures([])


def test_each_model_has_its_own_block_of_rows() -> None:
    figures = quality_figures(OUTCOMES)
    labels = {"a": "Agent A", "b": "Agent B", "c": "Agent C"}
    old = quality_rows("old", figures, gguf="old.gguf", labels=labels, reference_tests="5-7")
    new = quality_rows(
        "new",
        figures,
        gguf="new.gguf",
        labels=labels,
        reference_tests="5-7",
        cold=ColdAsk(seconds=42.31, model_ready_s=3.5),
    )

    assert all(r.metric.startswith("quality [old]: ") for r in old)
    assert not {r.metric for r in old} & {r.metric for r in new}
    values = {r.metric.removeprefix("quality [old]: "): r.value for r in old}
    assert values["model"] == "old.gguf"
    assert values["answers passing, all agents"] == "25.0% [8.9, 53.2] (n=12)"
    assert values["answers passing, Agent A"].startswith("50.0% ")
    assert values["comparisons with a passing answer"].startswith("50.0% ")
    assert values["Tester tests the reference passes"].startswith("75.0% ")
    assert values["Tester tests per problem"] == "2.0"
    assert (values["warm ask p50"], values["warm ask p90"]) == ("20.0", "40.0")
    assert "cold first ask" not in values
    cold = new[-1]
    assert (cold.metric, cold.value, cold.unit) == ("quality [new]: cold first ask", "42.3", "s")
    assert "3.5 s" in cold.note
