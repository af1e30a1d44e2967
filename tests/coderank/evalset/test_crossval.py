"""Cross-validation with the real CrossEncoder: one fine-tune a fold, each problem scored by the
model that never trained on it, and the pooled table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coderank.evalset import Problem
from coderank.evalset.broken import SUBTLE
from coderank.evalset.build import Broken, EvalItem
from coderank.evalset.crossval import cross_validate, cross_validation_table
from coderank.finetune.train import METRICS_FILE
from coderank.reranker.cross_encoder import load_reranker
from harness.finetune_data import synthetic_pairs
from harness.settings import make_settings


def _items(n_problems: int) -> list[EvalItem]:
    """The synthetic "working beats broken" pairs as evaluation items: 2 broken answers each."""
    pairs = synthetic_pairs(n_problems, seed=0, per_problem=2)
    items = []
    for index in range(n_problems):
        first, second = pairs[2 * index : 2 * index + 2]
        problem = Problem(f"p{index}", "x", first.query, ("return x",), ())
        broken = tuple(Broken(SUBTLE, p.rejected, "") for p in (first, second))
        items.append(EvalItem(problem, (), first.chosen, broken))
    return items


@pytest.mark.slow
def test_each_problem_is_scored_once_by_the_fold_that_never_trained_on_it(tmp_path: Path) -> None:
    items = _items(16)
    lines: list[str] = []
    cv = cross_validate(
        items,
        load_reranker(make_settings(tmp_path)),
        tmp_path / "cv",
        folds=2,
        options={"epochs": 1, "progress_bar": False},
        say=lines.append,
    )
    assert len(cv.before) == len(cv.after) == 32
    assert sorted({o.problem for o in cv.after}) == sorted(i.problem.name for i in items)
    held = []
    for fold in (1, 2):
        metrics = json.loads((tmp_path / "cv" / f"fold-{fold}" / METRICS_FILE).read_text())
        assert metrics["pairs"]["held_out_problems"] == 8
        held.append(metrics["pairs"]["held_out"])
    assert held == [8, 8]  # the fine-tune's own figures: one broken answer of each kind
    assert lines[0] == "fold 1 of 2: 8 training problems (16 pairs), 8 held out"
    steps = [line.split(":")[0] for line in lines]
    assert steps == ["fold 1 of 2", "fold 1 epochs", "fold 2 of 2", "fold 2 epochs"]
    table = cross_validation_table(cv, model_id="base")
    assert "all 16 problems held out once" in table
    assert "bootstrap over the 16 problems" in table
    assert "(n=16)" in table and "(n=32)" in table  # one a problem; every broken answer
