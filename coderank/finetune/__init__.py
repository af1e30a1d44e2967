"""Fine-tuning the reranker on the team's votes. The interface loads no model library."""

from __future__ import annotations

from coderank.finetune.dataset import (
    MIN_PAIRS,
    PreferencePair,
    check_enough,
    read_pairs,
    split_by_problem,
)
from coderank.finetune.results import FineTuneResult, HeldOutEvaluation
from coderank.finetune.train import finetune

__all__ = [
    "MIN_PAIRS",
    "FineTuneResult",
    "HeldOutEvaluation",
    "PreferencePair",
    "check_enough",
    "finetune",
    "read_pairs",
    "split_by_problem",
]
