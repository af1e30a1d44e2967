"""Fakes passed into the graph in place of real models (never used by the product)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from coderank.agents.agents import Agent, build_agents, build_tester
from coderank.agents.prompts import AGENTS
from coderank.errors import ModelCrashedError, ModelError


class LengthReranker:
    """Scores an answer by its length: deterministic and easy to reason about."""

    model_id = "fake-length-reranker"

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        return [float(len(a)) for a in answers]


def fake_agents(
    answers: dict[str, str] | None = None,
    *,
    failing: Sequence[str] = (),
    crashing: Sequence[str] = (),
    timeout_s: float = 5,
) -> dict[str, Agent]:
    """The real agent chains over scripted chat models, one per agent.

    ``failing`` agents get a chat model that raises on every call; ``crashing`` ones one whose
    model process dies (``ModelCrashedError``).
    """
    texts = answers or {
        "concise_fixer": "```python\ndef f(n):\n    return n\n```",
        "explainer": "```python\ndef f(n):\n    # n unchanged\n    return n\n```\nIt returns n.",
        "optimizer": "```python\nf = lambda n: n\n```\nO(1).",
    }
    agents: dict[str, Agent] = {}
    for name in AGENTS:
        model = (
            FailingChatModel(responses=["unused"])
            if name in failing
            else CrashingChatModel(responses=["unused"])
            if name in crashing
            else FakeListChatModel(responses=[texts[name]])
        )
        agents[name] = build_agents(model, timeout_s=timeout_s)[name]
    return agents


def slow_agents(*seconds: float) -> dict:
    """Scripted agents that take ``seconds`` each (one value for all, or one per agent)."""
    delays = seconds * 3 if len(seconds) == 1 else seconds
    return {
        name: build_agents(
            FakeListChatModel(responses=[f"```python\nx = {i}\n```"], sleep=delay), timeout_s=30
        )[name]
        for i, (name, delay) in enumerate(zip(AGENTS, delays, strict=True))
    }


class FailingChatModel(FakeListChatModel):
    """A chat model whose every call fails, counting the calls."""

    calls: int = 0

    def _call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise ConnectionError("model server unreachable")


class CrashingChatModel(FailingChatModel):
    """A chat model whose model process dies on every call."""

    def _call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise ModelCrashedError(
            "the embedded model process was stopped by SIGKILL while generating; CodeRank "
            "started it again, so please ask again"
        )


class Counter:
    def __init__(self) -> None:
        self._it = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            return next(self._it)


class FailingReranker:
    """A reranker whose model cannot be loaded."""

    model_id = "broken-model"

    def score(self, problem: str, answers: Sequence[str]) -> list[float]:
        raise ModelError("cannot load the reranker from 'broken-model': no such folder")


def fake_tester(text: str, *, failing: bool = False) -> Agent:
    """The real Tester chain over a scripted chat model (``failing``: one that always raises)."""
    model = (
        FailingChatModel(responses=["unused"]) if failing else FakeListChatModel(responses=[text])
    )
    return build_tester(model, timeout_s=5, attempts=1)
