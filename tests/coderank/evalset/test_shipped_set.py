"""The shipped evaluation set: at least 100 problems outside the training data, every one kept by
running it in the real sandbox, with broken answers of every kind."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from coderank.evalset import load_problems
from coderank.evalset.broken import KINDS
from coderank.evalset.build import build_eval_set
from coderank.execution.sandbox import Sandbox
from harness.finetune_data import SPECS
from harness.settings import run_script


def test_the_problems_are_new_and_distinct() -> None:
    problems = load_problems()
    names = [p.name for p in problems]
    assert len(problems) >= 100 and len(set(names)) == len(names)
    assert not set(names) & {spec[0] for spec in SPECS}  # the fine-tune benchmark's problems
    assert len({p.query for p in problems}) == len(problems)
    assert all(len(p.inputs) >= 5 for p in problems)


PARTS = 4  # built in parts, so the test workers share the sandbox runs


@pytest.mark.parametrize("part", range(PARTS))
def test_every_problem_is_kept_by_running_it_with_every_kind_of_broken_answer(part: int) -> None:
    problems = load_problems()
    assert len(problems) >= 100
    report = build_eval_set(problems[part::PARTS], Sandbox(), seed=0)
    assert report.dropped == {}
    assert len(report.items) == len(problems[part::PARTS])
    kinds = Counter(b.kind for item in report.items for b in item.broken)
    assert all(kinds[kind] >= 0.95 * len(report.items) for kind in KINDS), kinds


def test_the_script_refuses_to_build_the_set_without_the_sandbox(tmp_path: Path) -> None:
    out = run_script("evaluate_evalset.py", tmp=tmp_path, EXECUTION="off")
    assert out.returncode == 2
    why = "error: the evaluation set is built by running code in the sandbox: EXECUTION=off\n"
    assert out.stderr == why
    assert out.stdout == ""
