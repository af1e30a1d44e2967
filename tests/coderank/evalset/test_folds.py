"""Cross-validation over the evaluation set: folds by problem, and figures pooled over every
problem with intervals that count a problem's several pairs as one cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from coderank.errors import CoderankError
from coderank.evalset import Problem
from coderank.evalset.broken import CRASH, SUBTLE
from coderank.evalset.build import Broken, EvalItem, fold_items
from coderank.evalset.score import (
    ALL,
    Outcome,
    accuracy_by_kind,
    clustered_accuracy_by_kind,
    first_of_each_kind,
    outcomes,
    pair_outcomes,
    preference_pairs,
)
from harness.fakes import LengthReranker
from harness.settings import run_script


def _item(name: str, *broken: str) -> EvalItem:
    problem = Problem(name, "x", f"Return x for {name}.", ("return x",), ((1,),))
    return EvalItem(
        problem,
        ("assert f(1) == 1",),
        "```python\ndef f(x):\n    return x\n```",
        tuple(Broken(SUBTLE, text, "0/1 checks passed") for text in broken),
    )


def test_every_problem_is_held_out_in_exactly_one_fold_and_never_trained_on_there() -> None:
    items = [_item(f"p{i}", "short") for i in range(10)]
    splits = fold_items(items, folds=3, seed=0)
    held = [sorted(i.problem.name for i in h) for _, h in splits]
    assert sorted(name for fold in held for name in fold) == sorted(f"p{i}" for i in range(10))
    assert sorted(len(fold) for fold in held) == [3, 3, 4]
    for train, held_out in splits:
        assert {i.problem.name for i in train}.isdisjoint(i.problem.name for i in held_out)
        assert len(train) + len(held_out) == 10
    assert fold_items(items, folds=3, seed=0) == splits  # seeded
    assert fold_items(items, folds=3, seed=1) != splits


@pytest.mark.parametrize("folds", [1, 11])
def test_impossible_folds_are_refused(folds: int) -> None:
    items = [_item(f"p{i}", "short") for i in range(10)]
    with pytest.raises(CoderankError, match=f"between 2 and 10 problems, not {folds}"):
        fold_items(items, folds=folds)


def test_a_problems_several_pairs_widen_the_interval_as_one_cluster() -> None:
    # 10 problems with 8 subtle bugs each: 6 problems entirely right, 4 entirely wrong.
    results = [Outcome(f"p{p}", SUBTLE, p < 6) for p in range(10) for _ in range(8)]
    clustered = clustered_accuracy_by_kind(results, seed=0)[SUBTLE]
    naive = accuracy_by_kind(results)[SUBTLE]
    assert clustered.value == naive.value == 0.6 and clustered.n == 80
    assert clustered.low is not None and clustered.high is not None
    assert naive.low is not None and naive.high is not None
    assert clustered.low < 0.6 < clustered.high
    # As wide as 10 independent pairs would give, not 80.
    assert clustered.high - clustered.low > 2 * (naive.high - naive.low)
    assert clustered_accuracy_by_kind(results, seed=0) == clustered_accuracy_by_kind(
        list(reversed(results)), seed=0
    )


def test_all_right_still_has_an_interval_and_every_kind_is_pooled() -> None:
    results = [Outcome(f"p{p}", CRASH, True) for p in range(5)]
    results += [Outcome("p0", SUBTLE, False), Outcome("p1", SUBTLE, True)]
    figures = clustered_accuracy_by_kind(results)
    assert figures[CRASH].value == 1.0 and figures[CRASH].low is not None
    assert figures[CRASH].low < 1.0
    assert figures[ALL].value == 6 / 7 and figures[ALL].n == 7


def test_outcomes_score_every_broken_answer_and_the_first_of_each_kind_is_one_split() -> None:
    items = [_item("a", "x", "a much longer broken answer than the reference"), _item("b", "y")]
    results = outcomes(LengthReranker(), items)  # the longer answer scores higher
    assert [(o.problem, o.right) for o in results] == [("a", True), ("a", False), ("b", True)]
    assert first_of_each_kind(results) == [results[0], results[2]]
    # The same outcomes from the pairs as written to JSON Lines (the problem is the query's).
    from_pairs = pair_outcomes(LengthReranker(), preference_pairs(items))
    assert [(o.kind, o.right) for o in from_pairs] == [(o.kind, o.right) for o in results]
    assert len({o.problem for o in from_pairs}) == 2


def test_the_script_asks_for_an_output_folder_before_cross_validating(tmp_path: Path) -> None:
    out = run_script("evaluate_evalset.py", "--folds", "3", tmp=tmp_path)
    assert out.returncode == 2
    assert "--folds fine-tunes once a fold: give --finetune OUT_DIR" in out.stderr
    assert out.stdout == ""


def test_the_script_refuses_a_patience_of_no_epochs(tmp_path: Path) -> None:
    out = run_script("evaluate_evalset.py", "--patience", "0", tmp=tmp_path)
    assert out.returncode == 2
    assert "--patience counts epochs without a gain: give 1 or more" in out.stderr
    assert out.stdout == ""
