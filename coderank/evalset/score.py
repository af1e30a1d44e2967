"""The evaluation set as preference pairs (the reference chosen, a broken answer rejected), and a
reranker's accuracy on them, per kind of broken answer, with 95% intervals: Wilson's for one pair a
problem, a bootstrap over problems when a problem gives several pairs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from coderank.evalset.broken import KINDS
from coderank.evalset.build import EvalItem
from coderank.evaluation.formatting import format_estimate
from coderank.evaluation.metrics import Estimate, wilson
from coderank.finetune.dataset import PreferencePair
from coderank.reranker.base import Reranker

ALL = "all kinds"
BOOTSTRAP_ROUNDS = 2000


def preference_pairs(items: Sequence[EvalItem]) -> list[PreferencePair]:
    """One pair per broken answer: the reference chosen, the broken answer rejected."""
    return [
        PreferencePair(
            comparison_id=f"evalset:{item.problem.name}:{broken.kind}",
            query=item.problem.query,
            chosen=item.reference,
            rejected=broken.text,
            chosen_agent="reference",
            rejected_agent=broken.kind,
            votes={},
            created_at="",
            kind=broken.kind,
        )
        for item in items
        for broken in item.broken
    ]


def training_pairs(items: Sequence[EvalItem], *, limit: int = 0) -> list[PreferencePair]:
    """``items``' pairs to train on: the first ``limit`` of them (a team's first votes); 0: all."""
    pairs = preference_pairs(items)
    return pairs[:limit] if limit > 0 else pairs


@dataclass(frozen=True)
class Outcome:
    """One held-out pair scored: was the reference above the broken answer?"""

    problem: str
    kind: str
    right: bool


def outcomes(reranker: Reranker, items: Sequence[EvalItem]) -> list[Outcome]:
    """Every broken answer of ``items`` against its reference, in item order."""
    result: list[Outcome] = []
    for item in items:
        if not item.broken:
            continue
        scores = reranker.score(
            item.problem.query, [item.reference, *(b.text for b in item.broken)]
        )
        result.extend(
            Outcome(item.problem.name, broken.kind, bool(scores[0] > score))
            for broken, score in zip(item.broken, scores[1:], strict=True)
        )
    return result


def pair_outcomes(reranker: Reranker, pairs: Sequence[PreferencePair]) -> list[Outcome]:
    """Each preference pair scored (read back from JSON Lines: the problem is ``pair.problem``)."""
    result = []
    for pair in pairs:
        chosen, rejected = reranker.score(pair.query, [pair.chosen, pair.rejected])
        result.append(Outcome(pair.problem, pair.kind, bool(chosen > rejected)))
    return result


def first_of_each_kind(results: Sequence[Outcome]) -> list[Outcome]:
    """The first outcome of each kind for each problem (``build.one_of_each_kind``'s pairs)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for outcome in results:
        if (outcome.problem, outcome.kind) not in seen:
            seen.add((outcome.problem, outcome.kind))
            kept.append(outcome)
    return kept


def _by_kind(results: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = {k: [o for o in results if o.kind == k] for k in KINDS}
    groups = {k: v for k, v in groups.items() if v}
    groups[ALL] = list(results)
    return groups


def accuracy_by_kind(results: Sequence[Outcome]) -> dict[str, Estimate]:
    """Accuracy per kind and over all kinds, with Wilson intervals (pairs taken as independent:
    right for one pair a problem)."""
    return {
        kind: wilson(sum(o.right for o in group), len(group))
        for kind, group in _by_kind(results).items()
    }


def clustered_accuracy_by_kind(
    results: Sequence[Outcome], *, seed: int = 0, rounds: int = BOOTSTRAP_ROUNDS
) -> dict[str, Estimate]:
    """Accuracy per kind and over all kinds, with 95% intervals from a bootstrap over problems:
    several pairs of one problem are not independent, so whole problems are resampled."""
    return {
        kind: _clustered(group, seed=seed, rounds=rounds)
        for kind, group in _by_kind(results).items()
    }


def _clustered(group: Sequence[Outcome], *, seed: int, rounds: int) -> Estimate:
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for outcome in group:
        right[outcome.problem] += outcome.right
        total[outcome.problem] += 1
    r = np.array([right[p] for p in total], dtype=float)
    t = np.array(list(total.values()), dtype=float)
    value = float(r.sum() / t.sum())
    if len(t) < 2 or r.sum() in (0, t.sum()):  # one problem, or every pair alike: no spread
        interval = wilson(int(r.sum()), int(t.sum()))
        return Estimate(value, len(group), interval.low, interval.high)
    boot = stats.bootstrap(
        (r, t),
        lambda rr, tt, axis=-1: rr.sum(axis=axis) / tt.sum(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=rounds,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    ci = boot.confidence_interval
    return Estimate(value, len(group), float(ci.low), float(ci.high))


def kind_accuracy(reranker: Reranker, items: Sequence[EvalItem]) -> dict[str, Estimate]:
    """How often ``reranker`` scores the reference above each kind of broken answer."""
    return accuracy_by_kind(outcomes(reranker, items))


def kind_table(columns: dict[str, dict[str, Estimate]]) -> str:
    """One row per kind, one column per model (``kind_accuracy`` of each). Pure."""
    kinds = list(next(iter(columns.values())))
    label = "kind of broken answer"
    width = max(len(label), *(len(k) for k in kinds))
    head = f"{label.ljust(width)}  " + "  ".join(f"{c:<28}" for c in columns)
    rows = [
        f"{kind.ljust(width)}  "
        + "  ".join(
            f"{format_estimate(col[kind], as_percent=True):<28}" for col in columns.values()
        )
        for kind in kinds
    ]
    return "\n".join([head, *rows])
