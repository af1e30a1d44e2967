"""One training run of the CrossEncoder with sentence-transformers' ``CrossEncoderTrainer``:
pairwise RankNet, and early stopping on validation pairs (a part of the training problems, never
the held-out ones) through the trainer's own evaluation, checkpoints, ``load_best_model_at_end``
and ``transformers.EarlyStoppingCallback``.

The vendor libraries (``sentence_transformers``, ``transformers``, ``datasets``, ``torch``) are
imported inside the functions, so importing this module loads none of them.
"""

from __future__ import annotations

import copy
import functools
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coderank.errors import FineTuneError
from coderank.finetune.batches import GROUP, grouped_batches, pair_length
from coderank.finetune.dataset import PreferencePair
from coderank.finetune.results import EpochChoice

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.sampler import DefaultBatchSampler
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
    from transformers import TrainerControl, TrainerState, TrainingArguments

ProgressFn = Callable[[str, float], None]

NAME = "validation"
# Each pair is one query with one positive and one negative answer, so MRR@1 (1 when the chosen
# answer ranks first, else 0) averaged over the pairs is their pairwise accuracy.
METRIC = f"eval_{NAME}_mrr@1"


def _validation_evaluator(
    validation: Sequence[PreferencePair], *, batch_size: int
) -> CrossEncoderRerankingEvaluator:
    """sentence-transformers' reranking evaluator over the validation pairs, one sample a pair."""
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    samples: list[dict[str, str | list[str]]] = [
        {"query": p.query, "positive": [p.chosen], "negative": [p.rejected]} for p in validation
    ]
    return CrossEncoderRerankingEvaluator(
        samples,
        at_k=1,
        always_rerank_positives=True,
        name=NAME,
        batch_size=batch_size,
        show_progress_bar=False,
        write_csv=False,
    )


# Pairs per forward and backward pass. The activations of a batch of 256-token pairs are most of a
# fine-tune's memory (docs/benchmarks.md): a larger batch is run as gradient accumulation over
# micro-batches of this size, the same steps and the same mean gradient in less memory.
MICRO_BATCH = 8


def micro_batches(batch_size: int) -> tuple[int, int]:
    """``(pairs per pass, passes per optimizer step)`` for a batch of ``batch_size`` pairs: micro-
    batches of ``MICRO_BATCH`` when they divide it evenly, else the whole batch in one pass."""
    if batch_size > MICRO_BATCH and batch_size % MICRO_BATCH == 0:
        return MICRO_BATCH, batch_size // MICRO_BATCH
    return batch_size, 1


def length_grouped_sampler(
    lengths: Sequence[int], *, group: int = GROUP
) -> Callable[..., DefaultBatchSampler]:
    """The ``batch_sampler`` argument of ``CrossEncoderTrainingArguments`` that draws
    ``batches.grouped_batches``: the trainer calls it with its dataset (in the order of
    ``lengths``), batch size and seed, and sets the epoch. It pickles, as the trainer's arguments
    must: they are saved with each checkpoint."""
    return functools.partial(_length_grouped, lengths=tuple(lengths), group=group)


def _length_grouped(
    dataset: Any, *, lengths: tuple[int, ...], group: int, **kwargs: Any
) -> DefaultBatchSampler:
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class LengthGrouped(DefaultBatchSampler):
        def __len__(self) -> int:
            whole, rest = divmod(len(lengths), self.batch_size)
            return whole + (1 if rest and not self.drop_last else 0)

        def __iter__(self) -> Iterator[list[int]]:
            seed = self.seed * 1000 + self.epoch  # another arrangement each epoch
            for batch in grouped_batches(
                lengths, batch_size=self.batch_size, seed=seed, group=group
            ):
                if len(batch) == self.batch_size or not self.drop_last:
                    yield batch

    if len(dataset) != len(lengths):
        raise ValueError(f"{len(lengths)} lengths for a dataset of {len(dataset)} pairs")
    return LengthGrouped(dataset, **kwargs)


def _early_stopping_arguments() -> dict[str, Any]:
    """``CrossEncoderTrainingArguments`` that evaluate after each epoch, save the model (not the
    optimizer) when it is the best so far, and load the best one at the end."""
    return {
        "eval_strategy": "epoch",
        "save_strategy": "best",
        "save_only_model": True,
        "save_total_limit": 1,
        "load_best_model_at_end": True,
        "metric_for_best_model": METRIC,
        "greater_is_better": True,
    }


def _validation_history(log_history: Sequence[dict[str, Any]]) -> list[float]:
    """The validation accuracy after each epoch, from the trainer's ``state.log_history``."""
    return [float(entry[METRIC]) for entry in log_history if METRIC in entry]


def epoch_choice(
    accuracy: Sequence[float],
    *,
    epochs: int,
    patience: int,
    asked: bool,
    validation_problems: int,
    train_problems: int,
    min_problems: int,
) -> EpochChoice:
    """What early stopping chose (the first epoch of best validation accuracy, as the trainer
    keeps it), or why every epoch ran."""
    if not accuracy:
        reason = (
            "turned off"
            if not asked
            else f"too few training problems ({train_problems}) to set {min_problems} aside "
            "for validation"
        )
        return EpochChoice(
            early_stopping=False, reason=reason, epochs_run=epochs, best_epoch=epochs
        )
    best = max(range(len(accuracy)), key=lambda i: (accuracy[i], -i)) + 1
    stopped = len(accuracy) < epochs
    return EpochChoice(
        early_stopping=True,
        reason=(
            f"best of {len(accuracy)} epochs on {validation_problems} validation problems"
            + (f", stopped after {patience} without a gain" if stopped else "")
        ),
        epochs_run=len(accuracy),
        best_epoch=best,
        patience=patience,
        validation_accuracy=tuple(accuracy),
    )


def _without_attention_dropout(model: CrossEncoder) -> None:
    """Switch off dropout on the attention probabilities of a BERT-style model, for training.

    With it, PyTorch's CPU ``scaled_dot_product_attention`` falls back to the unfused kernel that
    keeps every attention matrix for the backward pass: measured on the evaluation set, training
    took twice the time and 4.2 GB instead of 2.6 GB. The hidden-layer dropout stays. The saved
    config is unchanged; inference never uses dropout.
    """
    from torch import nn

    for name, module in model.named_modules():
        dropout = getattr(module, "dropout", None)
        if name.endswith("attention.self") and isinstance(dropout, nn.Dropout):
            dropout.p = 0.0


def train_model(
    model: CrossEncoder,
    train: Sequence[PreferencePair],
    folder: Path,
    *,
    validation: Sequence[PreferencePair],
    seed: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    patience: int,
    max_length: int,
    warmup: float,
    length_grouped: bool,
    report: ProgressFn,
    progress_bar: bool,
) -> tuple[float, list[float]]:
    """Train a copy of ``model`` on ``train``, save it to ``folder`` (no model card) and return
    the seconds spent in training proper and the validation accuracy after each epoch (none
    without ``validation``; with it, the best epoch's weights are saved)."""
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import RankNetLoss
    from transformers import EarlyStoppingCallback, ProgressCallback, TrainerCallback, set_seed

    class Progress(TrainerCallback):
        def on_train_begin(
            self,
            args: TrainingArguments,
            state: TrainerState,
            control: TrainerControl,
            **kwargs: Any,
        ) -> None:
            report("training", 0.0)

        def on_step_end(
            self,
            args: TrainingArguments,
            state: TrainerState,
            control: TrainerControl,
            **kwargs: Any,
        ) -> None:
            report("training", state.global_step / max(state.max_steps, 1))

        def on_train_end(
            self,
            args: TrainingArguments,
            state: TrainerState,
            control: TrainerControl,
            **kwargs: Any,
        ) -> None:
            report("training", 1.0)  # also when early stopping ends it before max_steps

    class Bar(ProgressCallback):
        """The tqdm bar without the loss lines it would print on stdout."""

        def on_log(
            self,
            args: TrainingArguments,
            state: TrainerState,
            control: TrainerControl,
            logs: dict[str, float] | None = None,
            **kwargs: Any,
        ) -> None:
            pass

    set_seed(seed)
    tuned = copy.deepcopy(model)
    # Nothing may look things up on the Hub (dataset or base model metadata for a model card).
    tuned.model_card_data.local_files_only = True
    _without_attention_dropout(tuned)
    saved_length = tuned.max_seq_length
    tuned.max_seq_length = max_length
    dataset = Dataset.from_dict(
        {
            "query": [p.query for p in train],
            "docs": [[p.chosen, p.rejected] for p in train],
            "labels": [[1, 0] for _ in train],
        }
    )
    stopping: dict[str, Any] = {"eval_strategy": "no", "save_strategy": "no"}
    callbacks: list[TrainerCallback] = [Progress()]
    if validation:
        stopping = _early_stopping_arguments()
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=patience))
    per_pass, passes = micro_batches(batch_size)
    # Micro-batches of pairs of about the same length pad less.
    sampling: dict[str, Any] = (
        {"batch_sampler": length_grouped_sampler([pair_length(p) for p in train])}
        if length_grouped
        else {}
    )
    with tempfile.TemporaryDirectory(prefix="coderank-finetune-") as scratch:
        args = CrossEncoderTrainingArguments(
            output_dir=scratch,
            num_train_epochs=epochs,
            per_device_train_batch_size=per_pass,
            gradient_accumulation_steps=passes,
            learning_rate=learning_rate,
            warmup_steps=warmup,
            seed=seed,
            data_seed=seed,
            logging_strategy="no",
            report_to="none",
            push_to_hub=False,
            use_cpu=True,
            dataloader_num_workers=0,
            disable_tqdm=False,
            **stopping,
            **sampling,
        )
        trainer = CrossEncoderTrainer(
            model=tuned,
            args=args,
            train_dataset=dataset,
            loss=RankNetLoss(tuned, reduction_log="natural"),
            evaluator=(
                _validation_evaluator(validation, batch_size=batch_size) if validation else None
            ),
            callbacks=callbacks,
        )
        # RankNetLoss returns the mean over its micro-batch and ignores ``num_items_in_batch``, so
        # the trainer must divide it by the passes per step to get the whole batch's mean.
        trainer.loss_is_scaled_for_ga = False
        trainer.remove_callback(ProgressCallback)
        if progress_bar:
            trainer.add_callback(Bar())
        began = time.perf_counter()
        try:
            trainer.train()
        except (RuntimeError, ValueError) as exc:
            raise FineTuneError(f"training failed: {exc}") from exc
        seconds = time.perf_counter() - began
        accuracy = _validation_history(trainer.state.log_history)
    if validation and not accuracy:
        raise FineTuneError(f"training recorded no {METRIC} to choose the epoch on")
    tuned.max_seq_length = saved_length
    try:
        tuned.save_pretrained(str(folder), create_model_card=False)
    except OSError as exc:
        raise FineTuneError(f"cannot save the model to {folder}: {exc}") from exc
    return seconds, accuracy
