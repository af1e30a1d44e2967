"""The quality section's figures: from what each problem's ask showed to shares with their 95%
intervals, ask times and table rows. Pure: plain outcomes in, figures and rows out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coderank.evaluation.formatting import format_estimate
from coderank.evaluation.metrics import Estimate, wilson
from harness.bench.table import Row, percentile

MIN_TESTS = 3  # a problem the Tester left at least this many tests for


@dataclass(frozen=True)
class ProblemOutcome:
    """What one problem's ask showed."""

    problem: str
    # agent -> its code passes every reference test (no answer, no code or a crash: False)
    answers: Mapping[str, bool]
    # one per Tester test kept for the comparison: the reference passes it
    tester: tuple[bool, ...]
    seconds: float  # the ask's wall time
    error: str | None = None  # why the comparison failed (e.g. fewer than two answers)


@dataclass(frozen=True)
class QualityFigures:
    """One model's figures over the problems asked."""

    problems: int
    answers: Estimate  # answers whose code passes every reference test, all agents
    by_agent: dict[str, Estimate]
    any_answer: Estimate  # comparisons with at least one such answer
    tester_tests: Estimate  # Tester tests the reference passes
    tests_per_problem: float
    enough_tests: Estimate  # problems with at least MIN_TESTS Tester tests
    tests_count: dict[int, int]  # tests kept -> problems, in order
    ask_p50: float
    ask_p90: float
    failed: int  # comparisons that failed


@dataclass(frozen=True)
class ColdAsk:
    """The first ask of a new process with an empty model cache, as a user's first ``ask``."""

    seconds: float  # from building the services to the ask's answer
    model_ready_s: float  # of which: assembling the GGUF, starting the model, its self-check


def quality_figures(outcomes: Sequence[ProblemOutcome]) -> QualityFigures:
    """The figures of ``outcomes`` (one per problem; agents in order of first appearance).

    Raises:
        ValueError: no outcomes.
    """
    if not outcomes:
        raise ValueError("no problems to make figures of")
    agents = list(dict.fromkeys(agent for o in outcomes for agent in o.answers))
    passes = [ok for o in outcomes for ok in o.answers.values()]
    counts = [len(o.tester) for o in outcomes]
    seconds = [o.seconds for o in outcomes]
    return QualityFigures(
        problems=len(outcomes),
        answers=wilson(sum(passes), len(passes)),
        by_agent={
            agent: wilson(
                sum(o.answers[agent] for o in outcomes if agent in o.answers),
                sum(agent in o.answers for o in outcomes),
            )
            for agent in agents
        },
        any_answer=wilson(sum(any(o.answers.values()) for o in outcomes), len(outcomes)),
        tester_tests=wilson(sum(sum(o.tester) for o in outcomes), sum(counts)),
        tests_per_problem=sum(counts) / len(outcomes),
        enough_tests=wilson(sum(c >= MIN_TESTS for c in counts), len(outcomes)),
        tests_count=dict(sorted(Counter(counts).items())),
        ask_p50=percentile(seconds, 50),
        ask_p90=percentile(seconds, 90),
        failed=sum(o.error is not None for o in outcomes),
    )


def quality_rows(
    model: str,
    figures: QualityFigures,
    *,
    gguf: str,
    labels: Mapping[str, str],
    reference_tests: str,
    cold: ColdAsk | None = None,
) -> list[Row]:
    """One model's block of the table. ``labels`` names the agents; ``reference_tests`` says how
    many tests of the reference a problem has (``5-7``)."""
    f = figures

    def share(e: Estimate) -> str:
        return format_estimate(e, as_percent=True)

    head = f"quality [{model}]:"
    spread = ", ".join(f"{tests}: {n}" for tests, n in f.tests_count.items())
    rows = [
        Row(f"{head} model", gguf, "", f"LOCAL_MODEL={model}; {f.problems} problems asked"),
        Row(
            f"{head} answers passing, all agents",
            share(f.answers),
            "",
            f"code passes all of the reference's tests ({reference_tests} a problem) in the "
            f"sandbox; {f.failed} of {f.problems} comparisons failed",
        ),
        *(
            Row(f"{head} answers passing, {labels.get(agent, agent)}", share(e), "", "same")
            for agent, e in f.by_agent.items()
        ),
        Row(
            f"{head} comparisons with a passing answer",
            share(f.any_answer),
            "",
            "at least one of the three agents' answers passes",
        ),
        Row(
            f"{head} Tester tests the reference passes",
            share(f.tester_tests),
            "",
            "the reference run against each test kept (a problem's tests are not independent: "
            "the interval is too narrow)",
        ),
        Row(
            f"{head} Tester tests per problem",
            f"{f.tests_per_problem:.1f}",
            "tests",
            f"compiling top-level asserts kept; problems by tests kept: {spread}",
        ),
        Row(f"{head} problems with >= {MIN_TESTS} Tester tests", share(f.enough_tests), "", ""),
        Row(f"{head} warm ask p50", f"{f.ask_p50:.1f}", "s", "model started and warmed first"),
        Row(f"{head} warm ask p90", f"{f.ask_p90:.1f}", "s", "same"),
    ]
    if cold is not None:
        rows.append(
            Row(
                f"{head} cold first ask",
                f"{cold.seconds:.1f}",
                "s",
                "a new process, empty CODERANK_CACHE_DIR: assembling the GGUF, starting the model "
                f"and its self-check {cold.model_ready_s:.1f} s, then loading the reranker and "
                "the ask",
            )
        )
    return rows
