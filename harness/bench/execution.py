"""The sandbox: start-up per run, answers x checks per second, and what execution adds to a
comparison (scripted agents, so the time is the sandbox's)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from harness.bench.table import Row, log, percentile

GOOD = "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))\n"
PROBLEM = "Write is_prime(n).\n" + "".join(
    f">>> is_prime({n})\n{n in (2, 3, 5, 7, 11, 13)}\n" for n in range(1, 15)
)


def bench_execution(tmp: Path, runs: int = 30) -> list[Row]:
    from coderank.config import from_env
    from coderank.execution.checks import check_answer, examples
    from coderank.execution.sandbox import Sandbox
    from coderank.services import build_services
    from harness.fakes import LengthReranker, fake_agents

    sandbox = Sandbox()
    starts = []
    for _ in range(runs):
        started = time.perf_counter()
        assert sandbox.run("pass").ok
        starts.append(time.perf_counter() - started)
    checks = examples(PROBLEM)
    started = time.perf_counter()
    for _ in range(10):
        result = check_answer(sandbox, GOOD, checks)
        assert result.passed == len(checks), result
    per_second = 10 * len(checks) / (time.perf_counter() - started)
    log(f"  sandbox start p50 {percentile(starts, 50) * 1000:.0f} ms; {per_second:.0f} checks/s")

    def asks(execution: str) -> float:
        settings = from_env(
            {"DATA_DIR": str(tmp / f"exec-{execution}"), "EXECUTION": execution}, env_file=None
        )
        services = build_services(settings, agents=fake_agents(), reranker=LengthReranker())
        try:
            times = []
            for i in range(10):
                started = time.perf_counter()
                services.comparisons.start(PROBLEM + f"# {i}", requester="b", source="bench")
                times.append(time.perf_counter() - started)
            return statistics.median(times)
        finally:
            services.close()

    off, on = asks("off"), asks("auto")
    return [
        Row("sandbox start-up per run p50", f"{percentile(starts, 50) * 1000:.0f}", "ms",
            f"{runs} runs of `pass` in bwrap (all namespaces, limits, Debian's python3 -I)"),
        Row("sandbox start-up per run p99", f"{percentile(starts, 99) * 1000:.0f}", "ms", "same"),
        Row("checks per second", f"{per_second:.0f}", "checks/s",
            f"one answer x {len(checks)} doctest examples per run, 10 runs"),
        Row("execution added to one comparison", f"{(on - off) * 1000:.0f}", "ms",
            f"median of 10 starts with scripted agents: {off * 1000:.0f} ms off, "
            f"{on * 1000:.0f} ms with the 3 answers run side by side"),
    ]  # fmt: skip


TESTER_PROBLEMS = (
    "Write a function is_prime(n) that tells whether n is prime.",
    "Write a function fib(n) that returns the n-th Fibonacci number.",
    "Write a function reverse_words(s) that reverses the order of the words in s.",
    "Write a function count_vowels(s) that counts the vowels in s.",
    "Write a function flatten(rows) that flattens a list of lists.",
)


def bench_tester(cache_dir: str, tmp: Path) -> list[Row]:
    """The Tester on the embedded model: time per call and the tests it leaves (compiling,
    top-level assert lines)."""
    from coderank.agents.agents import build_tester
    from coderank.agents.llm import build_chat_model
    from coderank.config import from_env
    from coderank.execution import tester_checks

    settings = from_env(
        {"DATA_DIR": str(tmp / "tester"), "CODERANK_CACHE_DIR": cache_dir}, env_file=None
    )
    model = build_chat_model(settings)
    model.process.ensure_ready()  # type: ignore[attr-defined]
    tester = build_tester(model, timeout_s=settings.llm_timeout_s)
    times, kept = [], []
    for problem in TESTER_PROBLEMS:
        started = time.perf_counter()
        answer = tester.answer(problem)
        times.append(time.perf_counter() - started)
        kept.append(len(tester_checks(answer.text)))
    log(f"  Tester: median {statistics.median(times):.1f} s, tests kept {kept}")
    return [
        Row("Tester call (embedded model)", f"{statistics.median(times):.1f}", "s",
            f"median of {len(times)} problems, LLM_MAX_NEW_TOKENS={settings.llm_max_new_tokens}"),
        Row("Tester tests kept per problem", f"{statistics.mean(kept):.1f}", "tests",
            f"compiling top-level asserts, per problem: {kept}"),
    ]  # fmt: skip
