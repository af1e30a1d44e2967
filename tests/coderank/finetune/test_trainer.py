"""What early stopping chose, as a fine-tune records it (pure; the training itself is in
``test_train.py``)."""

from __future__ import annotations

from coderank.finetune.trainer import epoch_choice


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
