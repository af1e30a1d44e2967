"""The reranker interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Reranker(Protocol):
    """Scores answers to one problem; higher is better."""

    @property
    def model_id(self) -> str:
        """Which model made the scores; stored with every score."""
        ...

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        """One float per answer, in order."""
        ...
