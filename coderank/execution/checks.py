"""What is checked of an answer, and how: the checks are pure (tests from the problem text, the
harness program, reading its report); running them is :mod:`coderank.execution.sandbox`'s.

For each answer: does its code parse, does it run (definitions and top-level code) without an
exception, and does it pass each test: the problem's own examples (doctest ``>>>`` lines with
their expected output, ``assert`` lines) and any tests given (e.g. the Tester agent's). One
sandbox run per answer; each test has its own alarm, so one endless test fails alone.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from coderank.execution.judge import (
    ENCODE_SOURCE,
    ERROR_CHARS,
    ProbeResult,
    SplitTest,
    judge,
    split_test,
)
from coderank.execution.sandbox import SANDBOX_VERSION, RunResult, Sandbox
from coderank.fences import extract_code

TEST_SECONDS = 2
NO_CODE = "no Python code block"
MAX_TESTS = 20
MAX_TESTER_TESTS = 8

_DOCTEST = re.compile(r"^\s*>>> (?P<source>.+)\n(?P<want>(?!\s*(?:>>>|assert\s)).*)", re.MULTILINE)
_ASSERT = re.compile(r"^\s*(assert\s.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Check:
    """One test: Python source that raises (usually ``AssertionError``) when it fails."""

    source: str
    origin: str  # "example" (from the problem) or "tester"


@dataclass(frozen=True)
class Execution:
    """What running one answer showed."""

    parsed: bool
    ran: bool
    passed: int
    total: int
    error: str | None  # the first error: its type and one line
    seconds: float
    stopped: str | None = None  # timeout, cpu limit, output, a signal
    failures: list[str] = field(default_factory=list)  # the first error of each failed test
    outcomes: list[bool] = field(default_factory=list)  # passed or not, test by test
    sandbox: str = SANDBOX_VERSION

    @property
    def score(self) -> float:
        """How well it ran, from 0 to 1: 0 does not parse, 0.1 parses but does not run, then
        0.2 + 0.8 x the share of checks passed (0.6 when there are none to pass)."""
        if not self.parsed:
            return 0.0
        if not self.ran:
            return 0.1
        return 0.2 + 0.8 * (self.passed / self.total if self.total else 0.5)

    @property
    def outcome(self) -> str:
        """One word for the metrics: ``passed`` (every check), ``failed`` (some check),
        ``no_checks``, ``error`` (raised before the checks), ``stopped`` (a limit), ``syntax_error``
        or ``no_code`` (nothing was run)."""
        if not self.parsed:
            return "no_code" if self.error == NO_CODE else "syntax_error"
        if not self.ran:
            stopped = self.stopped is not None or (self.error or "").startswith("stopped:")
            return "stopped" if stopped else "error"
        if self.total == 0:
            return "no_checks"
        return "passed" if self.passed == self.total else "failed"

    @property
    def summary(self) -> str:
        """One short line for a reveal: ``5/6 checks passed`` or the first error."""
        if not self.parsed:
            return self.error if self.error == NO_CODE else f"does not parse: {self.error}"
        if not self.ran:
            return self.error or f"stopped: {self.stopped}"
        if self.total == 0:
            return "runs; no checks"
        if self.passed == 0 and self.failures:  # say why: e.g. a function that does not exist
            return self.failures[0]
        return f"{self.passed}/{self.total} checks passed"


def examples(problem: str) -> list[Check]:
    """The problem's own checkable examples: ``>>> call`` followed by its expected output, and
    ``assert`` lines (in or out of a code block)."""
    checks = []
    for match in _DOCTEST.finditer(problem):
        source, want = match["source"].strip(), match["want"].strip()
        if want:
            # As doctest does: the value's repr is the expected output.
            checks.append(Check(f"assert repr({source}) == {want!r}", "example"))
        else:
            checks.append(Check(source, "example"))
    checks += [Check(m.group(1), "example") for m in _ASSERT.finditer(problem)]
    return checks[:MAX_TESTS]


def tester_checks(text: str) -> list[Check]:
    """The Tester's tests from its answer: each top-level ``assert`` line that compiles (of its
    code block, else of the whole text), without repeats, at most ``MAX_TESTER_TESTS``."""
    code = extract_code(text) or text
    tests: list[str] = []
    for line in code.splitlines():
        line = line.rstrip()
        if not line.startswith("assert ") or line in tests:
            continue
        try:
            compile(line, "<test>", "exec")  # compiling runs nothing
        except (SyntaxError, ValueError):
            continue
        tests.append(line)
    return [Check(t, "tester") for t in tests[:MAX_TESTER_TESTS]]


def harness(code: str, tests: Sequence[SplitTest], marker: str) -> str:
    """The program run in the sandbox: it runs ``code``, then computes each test's probes (or
    runs its statement), and prints one report line starting with ``marker``. It holds no
    literal any test compares with: :func:`read_report` judges the values it reports."""
    plan = [list(t.probes) if t.statement is None else t.statement for t in tests]
    return f"""
import contextlib, io, json, signal, sys
CODE = {code!r}
PLAN = {plan!r}
{ENCODE_SOURCE}
def first_error(exc):
    text = str(exc).strip().splitlines()
    return type(exc).__name__ + (": " + text[0][:200] if text else "")

def late(signum, frame):
    raise TimeoutError("took more than {TEST_SECONDS} s")

def run_one(source, namespace, evaluate):
    try:
        signal.alarm({TEST_SECONDS})
        with contextlib.redirect_stdout(io.StringIO()):
            if evaluate:
                value = encode(eval(compile(source, "<test>", "eval"), namespace))
            else:
                exec(compile(source, "<test>", "exec"), namespace)
                value = None
        signal.alarm(0)
        return {{"value": value}}
    except BaseException as exc:
        signal.alarm(0)
        return {{"error": first_error(exc)}}

report = {{"parsed": False, "ran": False, "error": None, "results": []}}
real_stdout = sys.stdout
try:
    compiled = compile(CODE, "<answer>", "exec")
    report["parsed"] = True
except (SyntaxError, ValueError) as exc:
    report["error"] = first_error(exc)
if report["parsed"]:
    namespace = {{"__name__": "__main__"}}
    signal.signal(signal.SIGALRM, late)
    try:
        signal.alarm({TEST_SECONDS})
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compiled, namespace)
        signal.alarm(0)
        report["ran"] = True
    except BaseException as exc:
        signal.alarm(0)
        report["error"] = first_error(exc)
    if report["ran"]:
        for test in PLAN:
            if isinstance(test, str):
                report["results"].append(run_one(test, dict(namespace), False))
            else:
                scope = dict(namespace)
                report["results"].append([run_one(p, scope, True) for p in test])
real_stdout.write("\\n" + {marker!r} + json.dumps(report) + "\\n")
real_stdout.flush()
"""


def check_answer(sandbox: Sandbox, code: str, checks: list[Check]) -> Execution:
    """Run ``code`` and ``checks`` in ``sandbox``; the checks are judged here, on the values the
    run reports (:mod:`coderank.execution.judge`)."""
    marker = f"@@coderank-{secrets.token_hex(8)}@@"
    tests = [split_test(c.source) for c in checks]
    # Every test may use its whole alarm: the run's CPU and wall limits leave room for all.
    probes = sum(max(1, len(t.probes)) for t in tests)
    cpu_s = min(120, 2 + TEST_SECONDS * (probes + 1))
    limits = replace(sandbox.limits, cpu_s=cpu_s, wall_s=cpu_s + 5.0)
    result = replace(sandbox, limits=limits).run(harness(code, tests, marker))
    return read_report(result, marker, tests)


def read_report(result: RunResult, marker: str, tests: Sequence[SplitTest]) -> Execution:
    """The :class:`Execution` from a run's output (the last report line counts), each test
    judged on the values it reports."""
    report: dict[str, Any] | None = None
    for line in result.stdout.splitlines():
        if line.startswith(marker):
            try:
                report = json.loads(line[len(marker) :])
            except ValueError:
                report = None
    total = len(tests)
    shaped = isinstance(report, dict) and isinstance(report.get("results"), list)
    if report is None or not shaped:  # stopped before it could report: a limit, a kill
        why = result.stopped or _last_line(result.stderr) or f"exit code {result.exit_code}"
        return Execution(
            parsed=True,
            ran=False,
            passed=0,
            total=total,
            error=f"stopped: {why}",
            seconds=result.seconds,
            stopped=result.stopped,
        )
    reported = report["results"]
    ran = bool(report.get("ran")) and len(reported) == total
    errors = [_judged(t, r) for t, r in zip(tests, reported, strict=True)] if ran else []
    failures = [e for e in errors if e is not None]
    first = report.get("error")
    return Execution(
        parsed=bool(report.get("parsed")),
        ran=ran,
        passed=sum(e is None for e in errors),
        total=total,
        error=(str(first)[:ERROR_CHARS] if first else None) or (failures[0] if failures else None),
        seconds=result.seconds,
        stopped=result.stopped,
        failures=failures,
        outcomes=[e is None for e in errors],
    )


def _judged(test: SplitTest, reported: Any) -> str | None:
    """None if ``test`` passed on what the run reported of it, else its first error."""
    if test.statement is not None:  # a check that must only run: the run's word is taken
        if isinstance(reported, dict) and "error" in reported:
            return str(reported["error"])[:ERROR_CHARS]
        return None
    if not isinstance(reported, list):
        return "the run reported no values"
    results = [
        ProbeResult(
            value=r.get("value"), error=str(r["error"])[:ERROR_CHARS] if "error" in r else None
        )
        if isinstance(r, dict)
        else ProbeResult(error="a malformed value")
        for r in reported
    ]
    return judge(test, results)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
