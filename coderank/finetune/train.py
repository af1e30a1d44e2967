"""Fine-tune the CrossEncoder reranker on the team's preference pairs, and measure it.

The pairs are split by problem; the current and the fine-tuned model are scored on the same
held-out pairs through ``CrossEncoderReranker.score``, the code the bot ranks with. The loss is
pairwise RankNet (the Bradley-Terry log-likelihood of "chosen beats rejected"); the epochs are
chosen by early stopping on a validation part of the training problems (``trainer``). The model
and its ``metrics.json`` are written to a hidden sibling folder renamed to ``out_dir`` once
complete.

The vendor libraries are imported inside ``trainer.train_model``, so importing this module for
``FineTuneResult`` loads none of them.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from coderank.errors import FineTuneError
from coderank.finetune.dataset import (
    PreferencePair,
    check_enough,
    other_problem_pairs,
    problem_key,
    problems,
    split_by_problem,
    split_validation,
)
from coderank.finetune.results import (
    FineTuneResult,
    PairCounts,
    evaluate_held_out,
)
from coderank.finetune.trainer import ProgressFn, epoch_choice, train_model
from coderank.reranker.cross_encoder import CrossEncoderReranker

# Measured on the project's evaluation set (docs/benchmarks.md): 5 epochs at 1e-4 is the first
# recipe that learns subtle bugs (one changed operator); 2 epochs at 5e-5 left them at chance.
# With early stopping this is the most run; without it, every one runs.
DEFAULT_EPOCHS = 5
# Early stopping: this share of the training problems is set aside as validation (fewer than
# MIN_VALIDATION_PROBLEMS problems: no early stopping), and training stops after PATIENCE epochs
# without a better validation accuracy.
VALIDATION = 0.15
MIN_VALIDATION_PROBLEMS = 3
PATIENCE = 2
# Extra training pairs per training problem: its chosen answer against another problem's. On the
# evaluation set they took "wrong problem" from 77.8% to 100%; one a problem instead of two then
# took subtle bugs from 68.3% to 75.8% in 3-fold cross-validation (docs/benchmarks.md).
OTHER_PROBLEM_NEGATIVES = 1
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
    early_stopping: bool = True,
    patience: int = PATIENCE,
    other_problem_negatives: int = OTHER_PROBLEM_NEGATIVES,
    length_grouped: bool = True,
    on_progress: ProgressFn | None = None,
    progress_bar: bool = True,
) -> FineTuneResult:
    """Fine-tune a copy of ``base`` on ``pairs`` into ``out_dir`` and measure it.

    Args:
        pairs: decisive preference pairs (see ``coderank.finetune.dataset``).
        base: the reranker in use, or ``(source, model id)`` to load it; it is not modified.
        out_dir: the new model's folder; must not exist or be empty.
        seed: for the split, the training order, dropout and the A/B order of the evaluation.
        epochs: the most to run with early stopping, the number to run without.
        held_out_pairs: evaluate on these instead of a split of ``pairs`` (e.g. the team's voted
            pairs when training on execution-decided ones); training pairs of their problems are
            left out, so no held-out problem is trained on.
        early_stopping: set ``VALIDATION`` of the training problems aside, keep the epoch with
            the best pairwise accuracy on them and stop after ``patience`` epochs without a gain;
            off by itself when that is fewer than ``MIN_VALIDATION_PROBLEMS`` problems.
        other_problem_negatives: extra training pairs per training problem, its chosen answer
            against another training problem's (``dataset.other_problem_pairs``).
        length_grouped: draw micro-batches of pairs of about the same length (``batches``),
            else at random.
        on_progress: called with ``("evaluating" | "training", fraction done)``, possibly many
            times a second; throttle on your side.
        progress_bar: show the trainer's tqdm bar on stderr.

    Raises:
        FineTuneError: too few pairs, ``out_dir`` not empty, fewer than 1 epoch or a patience
            below 1, or training failed. Nothing is written then.
    """
    if epochs < 1 or patience < 1:
        raise FineTuneError(f"epochs and patience must be 1 or more, not {epochs} and {patience}")
    report = on_progress or (lambda stage, fraction: None)
    if held_out_pairs is None:
        train, held = split_by_problem(pairs, held_out=held_out, seed=seed)
    else:
        held = list(held_out_pairs)
        # By id and by text: a held-out file and a training file may name problems differently.
        kept_out = problems(held) | {problem_key(p.query) for p in held}
        train = [p for p in pairs if not {p.problem, problem_key(p.query)} & kept_out]
    check_enough(train, held)
    validation: list[PreferencePair] = []
    if early_stopping:
        train, validation = split_validation(
            train, share=VALIDATION, seed=seed, min_problems=MIN_VALIDATION_PROBLEMS
        )
    extra = other_problem_pairs(train, per_problem=other_problem_negatives, seed=seed)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FineTuneError(f"{out_dir} already exists and is not empty")
    if not isinstance(base, CrossEncoderReranker):
        source, model_id = base
        base = CrossEncoderReranker(source, model_id=model_id)

    report("evaluating", 0.0)
    before = evaluate_held_out(base, held, seed=seed)
    report("evaluating", 1.0)
    with _staging(out_dir) as staging:
        seconds, accuracy = train_model(
            base.model,
            [*train, *extra],
            staging,
            validation=validation,
            seed=seed,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            patience=patience,
            max_length=TRAIN_MAX_LENGTH,
            warmup=WARMUP,
            length_grouped=length_grouped,
            report=report,
            progress_bar=progress_bar,
        )
        choice = epoch_choice(
            accuracy,
            epochs=epochs,
            patience=patience,
            asked=early_stopping,
            validation_problems=len(problems(validation)),
            train_problems=len(problems(train)),
            min_problems=MIN_VALIDATION_PROBLEMS,
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
                total=len(train) + len(validation) + len(held),
                train=len(train),
                held_out=len(held),
                train_problems=len(problems(train)),
                held_out_problems=len(problems(held)),
                validation=len(validation),
                validation_problems=len(problems(validation)),
                other_problem=len(extra),
            ),
            before=before,
            after=after,
            epochs=epochs,
            train_seconds=seconds,
            examples_per_second=(
                (len(train) + len(extra)) * choice.epochs_run / seconds if seconds > 0 else 0.0
            ),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            epochs_chosen=choice,
            batches="length-grouped" if length_grouped else "random",
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
