"""What early stopping chose, as a fine-tune records it, and how a batch is split into micro-
batches (pure; the training itself is in ``test_train.py``)."""

from __future__ import annotations

from coderank.finetune.trainer import MICRO_BATCH, epoch_choice, micro_batches


def test_the_first_best_epoch_is_kept_and_an_early_stop_is_said() -> None:
    choice = epoch_choice(
        [0.70, 0.80, 0.80, 0.75],
        epochs=6,
        patience=2,
        asked=True,
        validation_problems=8,
        train_problems=50,
        min_problems=3,
    )
    assert choice.early_stopping and choice.epochs_run == 4 and choice.best_epoch == 2
    assert (
        choice.reason == "best of 4 epochs on 8 validation problems, stopped after 2 without a gain"
    )
    assert choice.to_json()["validation_accuracy"] == [0.70, 0.80, 0.80, 0.75]
    assert "epoch 2 kept" in choice.summary() and "80.0%" in choice.summary()


def test_every_epoch_ran_when_none_was_validated_and_the_result_says_why() -> None:
    few = epoch_choice(
        [],
        epochs=5,
        patience=2,
        asked=True,
        validation_problems=0,
        train_problems=12,
        min_problems=3,
    )
    assert not few.early_stopping and few.epochs_run == few.best_epoch == 5
    assert few.reason == "too few training problems (12) to set 3 aside for validation"
    assert few.to_json() == {
        "early_stopping": False,
        "reason": few.reason,
        "epochs_run": 5,
        "best_epoch": 5,
        "patience": 0,
        "validation_accuracy": [],
    }
    off = epoch_choice(
        [],
        epochs=5,
        patience=2,
        asked=False,
        validation_problems=0,
        train_problems=60,
        min_problems=3,
    )
    assert off.reason == "turned off" and off.summary() == "5 run, no early stopping (turned off)"


def test_a_batch_runs_as_micro_batches_that_add_up_to_it() -> None:
    assert MICRO_BATCH == 8
    assert micro_batches(16) == (8, 2)  # the recipe's batch: half the activations at a time
    assert micro_batches(24) == (8, 3)
    assert micro_batches(8) == (8, 1)
    assert micro_batches(4) == (4, 1)
    assert micro_batches(12) == (12, 1)  # not a multiple: one pass, never a different batch
    for batch in range(1, 65):
        per_pass, passes = micro_batches(batch)
        assert per_pass * passes == batch
