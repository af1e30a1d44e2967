"""The sentence-transformers ``CrossEncoder`` reranker, each model loaded once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from coderank.errors import ModelError
from coderank.reranker.registry import HEAD_SEED, reranker_source
from coderank.store import Store

__all__ = ["CrossEncoderReranker", "load_reranker", "reranker_source"]

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

    from coderank.config import Settings

log = logging.getLogger(__name__)

_cache: dict[str, CrossEncoderReranker] = {}
_cache_lock = threading.Lock()


class CrossEncoderReranker:
    """Scores (problem, answer) pairs with a ``CrossEncoder`` (one label, higher is better)."""

    def __init__(self, source: str, *, model_id: str, max_length: int = 512) -> None:
        import torch
        import transformers
        from sentence_transformers import CrossEncoder

        # Loading the bi-encoder as a cross-encoder is expected here: keep its load report quiet.
        # transformers leaves these two unannotated.
        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
        self._model_id = model_id
        self._lock = threading.Lock()
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(HEAD_SEED)
                self._model: CrossEncoder = CrossEncoder(
                    source, num_labels=1, max_length=max_length, device="cpu"
                )
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the reranker from {source!r}: {exc}") from exc

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def model(self) -> CrossEncoder:
        return self._model

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        if not answers:
            return []
        with self._lock:
            values = self._model.predict(
                [(problem, answer) for answer in answers], show_progress_bar=False
            )
        return [float(v) for v in values]


def load_reranker(settings: Settings, store: Store | None = None) -> CrossEncoderReranker:
    """The process's reranker in use for ``settings`` (loaded on first use, then shared). After a
    promotion the new model is loaded and models no longer in use are let go (a scoring still
    running on one keeps its own reference)."""
    source, model_id = reranker_source(settings, store)
    with _cache_lock:
        if model_id not in _cache:
            log.info("loading reranker %s", model_id)
            loaded = CrossEncoderReranker(source, model_id=model_id)
            _cache.clear()
            _cache[model_id] = loaded
        return _cache[model_id]
