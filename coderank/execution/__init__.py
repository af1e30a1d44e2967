"""Execution as a third signal: each answer's code run in a bubblewrap sandbox against the
problem's own examples and the Tester's tests, every answer against every test (CodeT-style
cross-execution). See :mod:`coderank.execution.sandbox` and :mod:`.checks`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from coderank.execution.checks import (
    NO_CODE,
    Check,
    Execution,
    check_answer,
    examples,
    tester_checks,
)
from coderank.execution.sandbox import SANDBOX_VERSION, Limits, Sandbox, probe

__all__ = [
    "SANDBOX_VERSION",
    "Check",
    "Execution",
    "Executor",
    "Limits",
    "Sandbox",
    "tester_checks",
]

log = logging.getLogger(__name__)


@dataclass
class Executor:
    """Runs answers in ``sandbox`` when execution is on and the sandbox works here; otherwise
    says why once (log, :attr:`status`) and runs nothing: code never runs unsandboxed."""

    sandbox: Sandbox = field(default_factory=Sandbox)
    enabled: bool = True  # EXECUTION=auto; False for EXECUTION=off
    _why_off: str | None = None
    _probed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def status(self) -> str:
        """``on (bwrap-3; <what holds between runs>)`` or ``off: <why>``."""
        why = self.why_off()
        if why is not None:
            return f"off: {why}"
        return f"on ({SANDBOX_VERSION}; {self.sandbox.isolation()})"

    def why_off(self) -> str | None:
        if not self.enabled:
            return "EXECUTION=off"
        with self._lock:
            if not self._probed:
                self._why_off = probe(self.sandbox)
                self._probed = True
                if self._why_off:
                    log.warning("execution is off: %s; answers are not run", self._why_off)
        return self._why_off

    def check(
        self, problem: str, answers: dict[str, str], tests: Sequence[str] = ()
    ) -> dict[str, Execution] | None:
        """``agent -> Execution`` for the code of each answer, run against the problem's examples
        and then ``tests`` (the Tester's), or None when execution is off."""
        if self.why_off() is not None:
            return None
        checks = examples(problem) + [Check(t, "tester") for t in tests]
        with ThreadPoolExecutor(max(1, len(answers))) as pool:  # one sandbox each, side by side
            done = {agent: pool.submit(self._one, code, checks) for agent, code in answers.items()}
        return {agent: future.result() for agent, future in done.items()}

    def _one(self, code: str, checks: list[Check]) -> Execution:
        if not code.strip():
            return Execution(
                parsed=False,
                ran=False,
                passed=0,
                total=len(checks),
                error=NO_CODE,
                seconds=0.0,
            )
        return check_answer(self.sandbox, code, checks)


def execution_dict(execution: Execution) -> dict[str, Any]:
    return {**asdict(execution), "summary": execution.summary, "score": execution.score}
