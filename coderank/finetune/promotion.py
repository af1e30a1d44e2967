"""Promote a fine-tuned reranker only if it beats the one in use on the held-out pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from coderank.config import Settings
from coderank.evaluation.formatting import percent
from coderank.reranker.registry import PromotedModel, reranker_source, write_promoted
from coderank.store import Store

if TYPE_CHECKING:
    from coderank.finetune.results import FineTuneResult


@dataclass(frozen=True)
class Promotion:
    promoted: bool
    reason: str


def should_promote(before: float | None, after: float | None, *, force: bool) -> Promotion:
    """The decision, on held-out accuracy: strictly better, or forced."""
    if force:
        return Promotion(True, "promoted because --force was given")
    if after is None or before is None:
        return Promotion(False, "not promoted: no held-out accuracy to compare")
    if after > before:
        return Promotion(
            True,
            f"promoted: held-out accuracy {percent(after)} beats the current {percent(before)}",
        )
    return Promotion(
        False,
        f"not promoted: held-out accuracy {percent(after)} does not beat the current "
        f"{percent(before)}",
    )


def promote_if_better(
    settings: Settings,
    result: FineTuneResult,
    *,
    force: bool = False,
    by: str = "command line",
    store: Store | None = None,
) -> Promotion:
    """Make ``result``'s model the one in use if it is better (or ``force``). Every process that
    shares ``DATA_DIR`` scores with it from its next comparison on."""
    before, after = result.before.accuracy.value, result.after.accuracy.value
    decision = should_promote(before, after, force=force)
    if not decision.promoted:
        return decision
    write_promoted(
        settings,
        PromotedModel(
            path=str(Path(result.model).resolve()),
            promoted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            by=by,
            accuracy_before=before,
            accuracy_after=after,
            previous=reranker_source(settings, store)[1],
        ),
        store,
    )
    if settings.reranker_load_dir:
        return Promotion(
            True,
            decision.reason + f"; but RERANKER_LOAD_DIR={settings.reranker_load_dir} is set and "
            "wins: unset it to use the promoted model",
        )
    return decision
