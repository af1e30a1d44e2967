"""Run the references and the broken answers in the sandbox, and keep what the tests decide.

A problem is kept when its reference runs and passes its own tests; a broken answer is kept when
the tests fail it (a subtle bug must also run: it gives wrong answers, it does not crash). Every
answer's code is normalised the same way (``ast.unparse``), so formatting tells nothing.
"""

from __future__ import annotations

import ast
import json
import random
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

from coderank.errors import CoderankError
from coderank.evalset import Problem
from coderank.evalset.broken import (
    CRASH,
    DOCSTRING_SHARE,
    SUBTLE,
    UNFINISHED,
    WRONG_PROBLEM,
    as_answer,
    crash,
    has_docstring,
    mutants,
    unfinished,
    with_docstring,
    wrong_problem,
)
from coderank.execution.checks import Check, check_answer
from coderank.execution.sandbox import Sandbox

MAX_MUTANTS_TRIED = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Broken:
    kind: str
    text: str
    summary: str  # what running it showed, e.g. "2/6 checks passed"


@dataclass(frozen=True)
class EvalItem:
    """One problem of the set: its tests, the reference answer and the broken answers kept."""

    problem: Problem
    tests: tuple[str, ...]
    reference: str  # the reference as an answer (text with a code block)
    broken: tuple[Broken, ...]


@dataclass
class BuildReport:
    items: list[EvalItem] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # problem -> why


def normalised(code: str) -> str:
    return ast.unparse(ast.parse(code))


def expected_outputs(sandbox: Sandbox, problem: Problem) -> list[str]:
    """The reference's result for each input, as ``repr`` text, run in the sandbox.

    Raises:
        CoderankError: the reference did not run.
    """
    marker = f"@@evalset-{secrets.token_hex(8)}@@"
    program = (
        f"import json\n{problem.reference}\n"
        f"calls = {[list(args) for args in problem.inputs]!r}\n"
        f"print({marker!r} + json.dumps([repr({problem.name}(*args)) for args in calls]))\n"
    )
    result = sandbox.run(program)
    for line in result.stdout.splitlines():
        if line.startswith(marker):
            outputs: list[str] = json.loads(line[len(marker) :])
            return outputs
    raise CoderankError(f"the reference of {problem.name} did not run: {result.stderr[-200:]}")


def tests_of(problem: Problem, outputs: Sequence[str]) -> list[str]:
    """One ``assert`` line per input: the call and the reference's result."""
    return [
        f"assert {problem.name}({', '.join(repr(a) for a in args)}) == {want}"
        for args, want in zip(problem.inputs, outputs, strict=True)
    ]


@dataclass(frozen=True)
class Candidates:
    """A problem's reference and broken answers as code, before anything runs. Made in one
    thread: CPython 3.11's ``ast`` is not safe to use from several threads at once (seen here:
    ``SystemError: AST constructor recursion depth mismatch``)."""

    reference: str
    mutants: tuple[str, ...]
    others: tuple[tuple[str, str], ...]  # (kind, code) of the other kinds


def candidates(
    problem: Problem,
    other: Problem,
    *,
    seed: int = 0,
    subtle: int = 1,
    docstring_share: float = DOCSTRING_SHARE,
) -> Candidates:
    """``problem``'s candidates (``other`` gives its wrong-problem answer), each with its
    problem's docstring when ``has_docstring`` says so. Pure."""
    dressed = has_docstring(problem, seed=seed, share=docstring_share)

    def answer(code: str, about: Problem) -> str:
        code = normalised(code)
        return with_docstring(code, about.description) if dressed else code

    reference = normalised(problem.reference)  # mutated bare: a docstring is never changed
    return Candidates(
        reference=answer(reference, problem),
        mutants=tuple(
            answer(m, problem) for m in mutants(reference, seed=seed)[: MAX_MUTANTS_TRIED * subtle]
        ),
        others=(
            (WRONG_PROBLEM, answer(wrong_problem(other), other)),
            (UNFINISHED, answer(unfinished(problem), problem)),
            (CRASH, answer(crash(problem), problem)),
        ),
    )


def reference_checks(sandbox: Sandbox, problem: Problem, reference: str) -> list[Check] | str:
    """The tests of ``problem`` (its reference's outputs on its inputs), or why there are none:
    the reference does not run, or ``reference`` fails them (no answer is failed by a flaky
    test)."""
    try:
        tests = tests_of(problem, expected_outputs(sandbox, problem))
    except CoderankError as exc:
        return str(exc)
    checks = [Check(t, "evalset") for t in tests]
    ran = check_answer(sandbox, reference, checks)
    if ran.passed != len(checks):
        return f"the reference fails its own tests: {ran.summary}"
    return checks


def build_item(
    sandbox: Sandbox, problem: Problem, made: Candidates, *, subtle: int = 1
) -> EvalItem | str:
    """The item of ``problem``, or why it is dropped. Up to ``subtle`` subtle bugs are kept
    (more make more training pairs)."""
    checks = reference_checks(sandbox, problem, made.reference)
    if isinstance(checks, str):
        return checks
    broken: list[Broken] = []
    for variant in made.mutants:
        result = check_answer(sandbox, variant, checks)
        if result.ran and result.passed < result.total:
            broken.append(Broken(SUBTLE, as_answer(variant), result.summary))
            if len(broken) == subtle:
                break
    for kind, code in made.others:
        result = check_answer(sandbox, code, checks)
        if result.passed < result.total:
            broken.append(Broken(kind, as_answer(code), result.summary))
    return EvalItem(
        problem, tuple(c.source for c in checks), as_answer(made.reference), tuple(broken)
    )


def build_eval_set(
    problems: Sequence[Problem],
    sandbox: Sandbox,
    *,
    seed: int = 0,
    workers: int = 4,
    subtle: int = 1,
    docstring_share: float = DOCSTRING_SHARE,
) -> BuildReport:
    """Every problem's item, run side by side in ``workers`` sandboxes, with up to ``subtle``
    subtle bugs each, and docstrings in ``docstring_share`` of the problems' answers."""
    # Each problem's wrong answer is another problem's reference (never its own).
    pairs = list(zip(problems, another_of_each(problems, seed=seed), strict=True))
    made = [
        candidates(p, other, seed=seed, subtle=subtle, docstring_share=docstring_share)
        for p, other in pairs
    ]
    with ThreadPoolExecutor(workers) as pool:  # only the sandboxed runs go side by side
        results = list(
            pool.map(
                lambda i: build_item(sandbox, pairs[i][0], made[i], subtle=subtle),
                range(len(pairs)),
            )
        )
    return report_of([p.name for p in problems], results)


def another_of_each(items: Sequence[T], *, seed: int) -> list[T]:
    """For each of ``items``, another one of them (a seeded shuffle, never the item itself)."""
    others = list(items)
    random.Random(seed).shuffle(others)
    return [
        others[i] if others[i] != item else others[(i + 1) % len(others)]
        for i, item in enumerate(items)
    ]


def report_of(names: Sequence[str], results: Sequence[EvalItem | str]) -> BuildReport:
    """The kept items and, by problem name, why the others were dropped."""
    report = BuildReport()
    for name, result in zip(names, results, strict=True):
        if isinstance(result, str):
            report.dropped[name] = result
        else:
            report.items.append(result)
    return report


def one_of_each_kind(item: EvalItem) -> EvalItem:
    """``item`` with at most one broken answer of each kind (the first kept), as it is measured."""
    kept: dict[str, Broken] = {}
    for broken in item.broken:
        kept.setdefault(broken.kind, broken)
    return replace(item, broken=tuple(kept.values()))


def split_items(
    items: Sequence[EvalItem], *, held_out: float = 0.3, seed: int = 0
) -> tuple[list[EvalItem], list[EvalItem]]:
    """``(train, held_out)`` by problem, seeded; the same items and seed give the same split."""
    names = sorted(item.problem.name for item in items)
    random.Random(seed).shuffle(names)
    held = set(names[: max(1, round(len(names) * held_out))])
    return (
        [i for i in items if i.problem.name not in held],
        [i for i in items if i.problem.name in held],
    )


def fold_items(
    items: Sequence[EvalItem], *, folds: int, seed: int = 0
) -> list[tuple[list[EvalItem], list[EvalItem]]]:
    """``folds`` splits ``(train, held_out)`` by problem (cross-validation): every problem is held
    out in exactly one of them and trained on in the others. Seeded, pure.

    Raises:
        CoderankError: fewer than 2 folds, or more folds than problems.
    """
    names = sorted({item.problem.name for item in items})
    if not 2 <= folds <= len(names):
        raise CoderankError(f"--folds must be between 2 and {len(names)} problems, not {folds}")
    random.Random(seed).shuffle(names)
    fold_of = {name: index % folds for index, name in enumerate(names)}
    return [
        (
            [i for i in items if fold_of[i.problem.name] != fold],
            [i for i in items if fold_of[i.problem.name] == fold],
        )
        for fold in range(folds)
    ]
