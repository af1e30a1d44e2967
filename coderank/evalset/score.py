"""The evaluation set as preference pairs (the reference chosen, a broken answer rejected), and a
reranker's accuracy on them, per kind of broken answer, with 95% intervals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from coderank.evalset.broken import KINDS
from coderank.evalset.build import EvalItem
from coderank.evaluation.formatting import format_estimate
from coderank.evaluation.metrics import Estimate, wilson
from coderank.finetune.dataset import PreferencePair
from coderank.reranker.base import Reranker

ALL = "all kinds"


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


def kind_accuracy(reranker: Reranker, items: Sequence[EvalItem]) -> dict[str, Estimate]:
    """How often ``reranker`` scores the reference above each kind of broken answer."""
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for item in items:
        if not item.broken:
            continue
        scores = reranker.score(
            item.problem.query, [item.reference, *(b.text for b in item.broken)]
        )
        for broken, score in zip(item.broken, scores[1:], strict=True):
            total[broken.kind] += 1
            right[broken.kind] += scores[0] > score
    result = {kind: wilson(right[kind], total[kind]) for kind in KINDS if total[kind]}
    result[ALL] = wilson(sum(right.values()), sum(total.values()))
    return result


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
