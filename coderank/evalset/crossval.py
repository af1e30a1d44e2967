"""Cross-validation on the evaluation set: the problems are split into folds, the reranker is
fine-tuned once a fold on the other folds' problems, and each problem is scored by the model that
never trained on it. Every problem is then held out once, so the figures pool all of them instead
of the third a single split holds out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coderank.evalset.build import EvalItem, fold_items, one_of_each_kind
from coderank.evalset.score import (
    Outcome,
    accuracy_by_kind,
    clustered_accuracy_by_kind,
    first_of_each_kind,
    kind_table,
    outcomes,
    preference_pairs,
    training_pairs,
)
from coderank.finetune.results import FineTuneResult
from coderank.finetune.train import finetune
from coderank.reranker.cross_encoder import CrossEncoderReranker


@dataclass(frozen=True)
class CrossValidation:
    before: list[Outcome]  # the base model, every broken answer of every problem
    after: list[Outcome]  # each problem's, scored by the one fold model not trained on it
    results: list[FineTuneResult]  # one a fold

    @property
    def problems(self) -> int:
        return len({o.problem for o in self.before})


def cross_validate(
    items: Sequence[EvalItem],
    base: CrossEncoderReranker,
    out_dir: Path,
    *,
    folds: int,
    seed: int = 0,
    train_pairs: int = 0,
    options: Mapping[str, Any] | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> CrossValidation:
    """Fine-tune ``base`` once a fold into ``out_dir/fold-N`` and score every problem.

    Args:
        train_pairs: train on only the first N pairs of each fold's training problems; 0: all.
        options: more keyword arguments for ``coderank.finetune.train.finetune`` (epochs, ...).
        say: called with a line of progress a fold.

    Raises:
        CoderankError: impossible folds (``fold_items``) or a fine-tune that failed.
    """
    after: list[Outcome] = []
    results = []
    for number, (train, held) in enumerate(fold_items(items, folds=folds, seed=seed), start=1):
        pairs = training_pairs(train, limit=train_pairs)
        say(
            f"fold {number} of {folds}: {len(train)} training problems ({len(pairs)} pairs), "
            f"{len(held)} held out"
        )
        folder = out_dir / f"fold-{number}"
        result = finetune(
            pairs,
            base=base,
            out_dir=folder,
            seed=seed,
            held_out_pairs=preference_pairs([one_of_each_kind(item) for item in held]),
            **(options or {}),
        )
        if result.epochs_chosen is not None:
            say(f"fold {number} epochs: {result.epochs_chosen.summary()}")
        results.append(result)
        after.extend(outcomes(CrossEncoderReranker(str(folder), model_id=str(folder)), held))
    return CrossValidation(outcomes(base, items), after, results)


def cross_validation_table(cv: CrossValidation, *, model_id: str, seed: int = 0) -> str:
    """Both views of the pooled figures, base against fine-tuned. Pure."""
    seconds = sum(r.train_seconds for r in cv.results) / len(cv.results)
    name = f"fine-tuned ({len(cv.results)} folds, {seconds:.0f} s a fold)"
    one = {
        model_id: accuracy_by_kind(first_of_each_kind(cv.before)),
        name: accuracy_by_kind(first_of_each_kind(cv.after)),
    }
    every = {
        model_id: clustered_accuracy_by_kind(cv.before, seed=seed),
        name: clustered_accuracy_by_kind(cv.after, seed=seed),
    }
    return "\n".join(
        [
            f"one broken answer of each kind a problem, all {cv.problems} problems held out once "
            "(Wilson intervals):",
            kind_table(one),
            "",
            f"every broken answer (intervals: bootstrap over the {cv.problems} problems):",
            kind_table(every),
        ]
    )
