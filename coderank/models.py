"""Plain data passed between the agents, the graph, the store and the adapters."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

CHOICES = ("A", "B", "tie", "both_bad")
# ``closed_by`` of a comparison closed because its voting window ended (not a Slack user id).
CLOSED_BY_TIME = "time"


@dataclass(frozen=True)
class Answer:
    """One agent's answer: the full text and the Python code extracted from it."""

    agent: str
    text: str
    code: str
    latency_s: float = 0.0
    error: str | None = None
    # The model itself went away (its process crashed or cannot start): the comparison fails.
    fatal: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.text.strip())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Pair:
    """The two answers shown, in shown order, and how they were chosen."""

    a: str
    b: str
    policy: str
    probability: float
    explored: bool
    swapped: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
