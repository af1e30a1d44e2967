"""What a fine-tune measured: held-out agreement before and after, and the run's record (the
content of ``metrics.json``). No vendor imports: the bot reads these without loading torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from coderank.evaluation.metrics import Estimate, weighted_tau_b, wilson
from coderank.finetune.dataset import PreferencePair
from coderank.reranker.base import Reranker


@dataclass(frozen=True)
class HeldOutEvaluation:
    """A model's agreement with the team on the held-out pairs.

    ``accuracy``: share of pairs whose chosen answer scores strictly higher (Wilson interval).
    ``kendall_tau``: tau-b, as in ``coderank.evaluation.metrics``, between the score difference
    A - B and the preference (+1 for A, -1 for B), each pair shown as A/B in a seeded order that
    puts half the chosen answers first, so both preferences occur and tau is defined. Two pairs
    shown in opposite orders agree when their margins do (``diff_i + diff_j > 0``), so tau rewards
    confident right answers, not only right signs. With a two-level preference it tops out at
    ``sqrt(n_A * n_B / C(n, 2))``: 0.73 for 16 pairs, about 0.71 for many.
    """

    accuracy: Estimate
    kendall_tau: float | None
    # Accuracy per kind of rejected answer, when the pairs carry one (else empty).
    by_kind: dict[str, Estimate] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "accuracy": self.accuracy.value,
            "accuracy_low": self.accuracy.low,
            "accuracy_high": self.accuracy.high,
            "kendall_tau": self.kendall_tau,
        }
        if self.by_kind:
            result["by_kind"] = {
                kind: {"accuracy": e.value, "low": e.low, "high": e.high, "n": e.n}
                for kind, e in self.by_kind.items()
            }
        return result


@dataclass(frozen=True)
class PairCounts:
    total: int
    train: int  # trained on (the validation pairs are not)
    held_out: int
    train_problems: int
    held_out_problems: int
    validation: int = 0  # training problems' pairs set aside to choose the epoch
    validation_problems: int = 0
    # Added to the training pairs: a problem's chosen answer against another problem's.
    other_problem: int = 0


@dataclass(frozen=True)
class EpochChoice:
    """How many epochs the saved model was trained for.

    With early stopping, the pairwise accuracy on the validation pairs (a part of the training
    problems, never the held-out ones) after each epoch; the best epoch's weights are kept and
    training stops after ``patience`` epochs without a gain. Without (too few problems, or asked
    to), every epoch runs and ``reason`` says why.
    """

    early_stopping: bool
    reason: str
    epochs_run: int
    best_epoch: int  # the saved weights'
    patience: int = 0
    validation_accuracy: tuple[float, ...] = ()  # after each epoch run

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "validation_accuracy": list(self.validation_accuracy)}

    def summary(self) -> str:
        """One line for a person: what ran and what was kept."""
        if not self.early_stopping:
            return f"{self.epochs_run} run, no early stopping ({self.reason})"
        shown = ", ".join(f"{a:.1%}" for a in self.validation_accuracy)
        return (
            f"{self.epochs_run} run, epoch {self.best_epoch} kept ({self.reason}; validation "
            f"accuracy {shown})"
        )


@dataclass(frozen=True)
class FineTuneResult:
    """What a fine-tune produced and how the model did before and after (as ``metrics.json``)."""

    base_model: str
    model: str  # the output folder
    seed: int
    pairs: PairCounts
    before: HeldOutEvaluation
    after: HeldOutEvaluation
    epochs: int  # the most asked for; see ``epochs_chosen`` for those run
    train_seconds: float  # the trainer's loop only: no loading, saving or evaluating
    examples_per_second: float  # training pairs (each two (problem, answer) inputs) per second
    created_at: str
    epochs_chosen: EpochChoice | None = None  # None: a record from before early stopping
    # How micro-batches were drawn: "length-grouped" or "random"; "" for a record from before.
    batches: str = ""

    def to_json(self) -> dict[str, Any]:
        choice: dict[str, Any] = (
            {"early_stopping": self.epochs_chosen.to_json()} if self.epochs_chosen else {}
        )
        if self.batches:
            choice["batches"] = self.batches
        return {
            "base_model": self.base_model,
            "model": self.model,
            "seed": self.seed,
            "pairs": asdict(self.pairs),
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "epochs": self.epochs,
            "train_seconds": self.train_seconds,
            "examples_per_second": self.examples_per_second,
            "created_at": self.created_at,
            **choice,
        }


def evaluate_held_out(
    reranker: Reranker, pairs: Sequence[PreferencePair], *, seed: int = 0
) -> HeldOutEvaluation:
    """Score each pair with ``reranker.score(query, [chosen, rejected])`` and measure agreement."""
    diffs = np.empty(len(pairs))
    for i, pair in enumerate(pairs):
        chosen, rejected = reranker.score(pair.query, [pair.chosen, pair.rejected])
        diffs[i] = chosen - rejected
    right = int((diffs > 0).sum())
    by_kind = {
        kind: wilson(int((diffs[mask] > 0).sum()), int(mask.sum()))
        for kind in sorted({p.kind for p in pairs if p.kind})
        if (mask := np.array([p.kind == kind for p in pairs])).any()
    }
    # Half the pairs show the chosen answer as A (+1), half as B (-1), in a seeded order.
    y = np.where(np.arange(len(pairs)) % 2 == 0, 1, -1)
    np.random.default_rng(seed).shuffle(y)
    tau = weighted_tau_b(diffs * y, y, np.ones(len(pairs)))
    return HeldOutEvaluation(accuracy=wilson(right, len(pairs)), kendall_tau=tau, by_kind=by_kind)
