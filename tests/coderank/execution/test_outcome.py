"""The one word the metrics count each sandbox run by (``coderank_sandbox_runs_total``), from
real runs in the bwrap sandbox where it works here, and from a run cut off by a limit."""

from __future__ import annotations

import pytest

from coderank.execution import Executor
from coderank.execution.checks import NO_CODE, Check, Execution, read_report
from coderank.execution.judge import split_test
from coderank.execution.sandbox import RunResult

CHECKS = [Check("assert f(2) == 2", "example"), Check("assert f(3) == 3", "example")]


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("def f(n):\n    return n\n", "passed"),
        ("def f(n):\n    return 2\n", "failed"),
        ("raise RuntimeError('at import')\n", "error"),
        ("def f(n) return n\n", "syntax_error"),
        ("", "no_code"),
    ],
)
def test_each_run_has_one_outcome(code: str, outcome: str) -> None:
    executor = Executor()
    if executor.why_off() is not None:
        pytest.skip(f"no sandbox here: {executor.why_off()}")
    assert executor._one(code, CHECKS).outcome == outcome


def test_a_run_without_checks_and_one_stopped_by_a_limit() -> None:
    ran = Execution(parsed=True, ran=True, passed=0, total=0, error=None, seconds=0.1)
    assert ran.outcome == "no_checks"
    stopped = RunResult(stdout="", stderr="", exit_code=-9, seconds=4.0, stopped="timeout")
    tests = [split_test("assert f(1) == 1"), split_test("f(2)")]
    assert read_report(stopped, "@@marker@@", tests).outcome == "stopped"
    nothing = Execution(parsed=False, ran=False, passed=0, total=2, error=NO_CODE, seconds=0.0)
    assert nothing.outcome == "no_code"
