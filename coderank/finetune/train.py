"""Fine-tune the CrossEncoder reranker on the team's preference pairs, and measure it.

The pairs are split by problem; the current and the fine-tuned model are scored on the same
held-out pairs through ``CrossEncoderReranker.score``, the code the bot ranks with. The loss is
pairwise RankNet (the Bradley-Terry log-likelihood of "chosen beats rejected"). The model and its
``metrics.json`` are written to a hidden sibling folder renamed to ``out_dir`` once complete.

The vendor libraries (``sentence_transformers``, ``transformers``, ``datasets``) are imported
inside ``_train``, so importing this module for ``FineTuneResult`` loads none of them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coderank.errors import FineTuneError
from coderank.finetune.dataset import (
    PreferencePair,
    check_enough,
    problem_key,
    problems,
    split_by_problem,
)
from coderank.finetune.results import (
    FineTuneResult,
    PairCounts,
    evaluate_held_out,
)
from coderank.reranker.cross_encoder import CrossEncoderReranker

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder
    from transformers import TrainerControl, TrainerState, TrainingArguments

ProgressFn = Callable[[str, float], None]

# Measured on the project's evaluation set (docs/benchmarks.md): 5 epochs at 1e-4 is the first
# recipe that learns subtle bugs (one changed operator); 2 epochs at 5e-5 left them at chance.
DEFAULT_EPOCHS = 5
DEFAULT_BATCH_SIZE = 16
LEARNING_RATE = 1e-4
WARMUP = 0.1  # share of the steps
# Answers are short: 256 tokens cover (problem, answer) pairs and halve the cost of 512.
TRAIN_MAX_LENGTH = 256
HELD_OUT = 0.2
METRICS_FILE = "metrics.json"


def finetune(
    pairs: Sequence[PreferencePair],
    *,
    base: CrossEncoderReranker | tuple[str, str],
    out_dir: Path,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    held_out: float = HELD_OUT,
    held_out_pairs: Sequence[PreferencePair] | None = None,
    on_progress: ProgressFn | None = None,
    progress_bar: bool = True,
) -> FineTuneResult:
    """Fine-tune a copy of ``base`` on ``pairs`` into ``out_dir`` and measure it.

    Args:
        pairs: decisive preference pairs (see ``coderank.finetune.dataset``).
        base: the reranker in use, or ``(source, model id)`` to load it; it is not modified.
        out_dir: the new model's folder; must not exist or be empty.
        seed: for the split, the training order, dropout and the A/B order of the evaluation.
        held_out_pairs: evaluate on these instead of a split of ``pairs`` (e.g. the team's voted
            pairs when training on execution-decided ones); training pairs of their problems are
            left out, so no held-out problem is trained on.
        on_progress: called with ``("evaluating" | "training", fraction done)``, possibly many
            times a second; throttle on your side.
        progress_bar: show the trainer's tqdm bar on stderr.

    Raises:
        FineTuneError: too few pairs, ``out_dir`` not empty, or training failed. Nothing is
            written then.
    """
    report = on_progress or (lambda stage, fraction: None)
    if held_out_pairs is None:
        train, held = split_by_problem(pairs, held_out=held_out, seed=seed)
    else:
        held = list(held_out_pairs)
        # By id and by text: a held-out file and a training file may name problems differently.
        kept_out = problems(held) | {problem_key(p.query) for p in held}
        train = [p for p in pairs if not {p.problem, problem_key(p.query)} & kept_out]
    check_enough(train, held)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FineTuneError(f"{out_dir} already exists and is not empty")
    if not isinstance(base, CrossEncoderReranker):
        source, model_id = base
        base = CrossEncoderReranker(source, model_id=model_id)

    report("evaluating", 0.0)
    before = evaluate_held_out(base, held, seed=seed)
    report("evaluating", 1.0)
    with _staging(out_dir) as staging:
        seconds = _train(
            base.model,
            train,
            staging,
            seed=seed,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            report=report,
            progress_bar=progress_bar,
        )
        report("evaluating", 0.0)
        # The saved files, loaded as the bot loads them (they are renamed, not rewritten, below).
        tuned = CrossEncoderReranker(str(staging), model_id=str(out_dir.resolve()))
        after = evaluate_held_out(tuned, held, seed=seed)
        report("evaluating", 1.0)
        result = FineTuneResult(
            base_model=base.model_id,
            model=str(out_dir),
            seed=seed,
            pairs=PairCounts(
                total=len(train) + len(held),
                train=len(train),
                held_out=len(held),
                train_problems=len(problems(train)),
                held_out_problems=len(problems(held)),
            ),
            before=before,
            after=after,
            epochs=epochs,
            train_seconds=seconds,
            examples_per_second=len(train) * epochs / seconds if seconds > 0 else 0.0,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        (staging / METRICS_FILE).write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


@contextlib.contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A hidden sibling folder of ``out_dir``, renamed to it on success and removed on failure
    (with any parent folder it had to create)."""
    created = [p for p in (out_dir.parent, *out_dir.parent.parents) if not p.exists()]
    staging = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        try:
            staging.mkdir(parents=True)
        except OSError as exc:
            raise FineTuneError(f"cannot create {out_dir}: {exc}") from exc
        yield staging
        try:
            staging.rename(out_dir)  # replaces an empty folder too
        except OSError as exc:
            raise FineTuneError(f"cannot move the model to {out_dir}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


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


def _train(
    model: CrossEncoder,
    train: Sequence[PreferencePair],
    folder: Path,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    report: ProgressFn,
    progress_bar: bool,
) -> float:
    """Train a copy of ``model`` on ``train``, save it to ``folder`` (no model card) and return
    the seconds spent in training proper."""
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import RankNetLoss
    from transformers import ProgressCallback, TrainerCallback, set_seed

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
    max_length = tuned.max_seq_length
    tuned.max_seq_length = TRAIN_MAX_LENGTH
    dataset = Dataset.from_dict(
        {
            "query": [p.query for p in train],
            "docs": [[p.chosen, p.rejected] for p in train],
            "labels": [[1, 0] for _ in train],
        }
    )
    with tempfile.TemporaryDirectory(prefix="coderank-finetune-") as scratch:
        args = CrossEncoderTrainingArguments(
            output_dir=scratch,
            num_train_epochs=epochs,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            warmup_steps=WARMUP,
            seed=seed,
            data_seed=seed,
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="no",
            report_to="none",
            push_to_hub=False,
            use_cpu=True,
            dataloader_num_workers=0,
            disable_tqdm=False,
        )
        trainer = CrossEncoderTrainer(
            model=tuned,
            args=args,
            train_dataset=dataset,
            loss=RankNetLoss(tuned, reduction_log="natural"),
            callbacks=[Progress()],
        )
        trainer.remove_callback(ProgressCallback)
        if progress_bar:
            trainer.add_callback(Bar())
        began = time.perf_counter()
        try:
            trainer.train()
        except (RuntimeError, ValueError) as exc:
            raise FineTuneError(f"training failed: {exc}") from exc
        seconds = time.perf_counter() - began
    tuned.max_seq_length = max_length
    try:
        tuned.save_pretrained(str(folder), create_model_card=False)
    except OSError as exc:
        raise FineTuneError(f"cannot save the model to {folder}: {exc}") from exc
    return seconds
