"""A whole fine-tune from the store, as ``/coderank-admin finetune`` runs it: export the votes,
train, evaluate, promote if better, and store the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coderank.config import Settings
from coderank.evaluation.report import excluded_voters
from coderank.finetune.dataset import read_pairs
from coderank.finetune.export import ExportCount, export_pairs
from coderank.finetune.promotion import Promotion, promote_if_better
from coderank.finetune.results import FineTuneResult
from coderank.finetune.train import finetune
from coderank.metrics import Metrics
from coderank.reranker.registry import reranker_source
from coderank.store import EVALUATION_RESULTS, Store

FINETUNE_KIND = "finetune"
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class FineTuneRun:
    by: str
    exported: ExportCount
    result: FineTuneResult
    promotion: Promotion

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": f"{FINETUNE_KIND}:{self.result.created_at}:{Path(self.result.model).name}",
            "kind": FINETUNE_KIND,
            "created_at": self.result.created_at,
            "by": self.by,
            "exported": self.exported.exported,
            "left_out": dict(self.exported.skipped),
            "metrics": self.result.to_json(),
            "promoted": self.promotion.promoted,
            "reason": self.promotion.reason,
        }


def run_finetune(
    settings: Settings,
    store: Store,
    *,
    by: str,
    on_progress: Progress | None = None,
    now: datetime | None = None,
    metrics: Metrics | None = None,
) -> FineTuneRun:
    """Export every decisive vote, fine-tune the reranker in use on them into
    ``MODELS_DIR/reranker-ft/slack-<time>``, promote it if it beats the current one on the
    held-out pairs, and store the run in ``evaluation_results``.

    Raises:
        FineTuneError: too few pairs (nothing is written but the export file).
    """
    started = time.monotonic()
    try:
        run = _run(settings, store, by=by, on_progress=on_progress, now=now)
    except BaseException:
        if metrics is not None:
            metrics.finetune_ended("failed", seconds=time.monotonic() - started)
        raise
    if metrics is not None:
        outcome = "promoted" if run.promotion.promoted else "kept"
        metrics.finetune_ended(outcome, seconds=time.monotonic() - started)
    return run


def _run(
    settings: Settings, store: Store, *, by: str, on_progress: Progress | None, now: datetime | None
) -> FineTuneRun:
    report = on_progress or (lambda stage, fraction: None)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    report("exporting", 0.0)
    data = Path(settings.data_dir) / "finetune" / f"pairs-{stamp}.jsonl"
    exported = export_pairs(store, data, without=excluded_voters(store, settings.flagged_voters))
    report("exporting", 1.0)
    out_dir = Path(settings.models_dir) / "reranker-ft" / f"slack-{stamp}"
    result = finetune(
        read_pairs(data),
        base=reranker_source(settings, store),
        out_dir=out_dir,
        on_progress=report,
        progress_bar=False,
    )
    promotion = promote_if_better(settings, result, by=by, store=store)
    run = FineTuneRun(by=by, exported=exported, result=result, promotion=promotion)
    store.upsert(EVALUATION_RESULTS, run.to_document())
    return run


def last_runs(store: Store, *, limit: int = 3) -> list[dict[str, Any]]:
    """The most recent fine-tune runs, newest first."""
    runs = list(store.find(EVALUATION_RESULTS, {"kind": FINETUNE_KIND}))
    return sorted(runs, key=lambda d: str(d.get("created_at")), reverse=True)[:limit]
