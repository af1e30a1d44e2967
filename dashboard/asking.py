"""Asking from the page: each problem is generated on the domain's bounded pool, off the page's
script thread (Streamlit reruns the script on every click, which must not cut a generation
short), and its progress is kept here for the page to poll."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from coderank.agents.prompts import AGENTS, LABELS
from coderank.comparisons import new_comparison_id
from coderank.errors import CoderankError
from coderank.generation.queue import GenerationPool
from coderank.problems import validate_problem
from coderank.services import Services

log = logging.getLogger(__name__)

SOURCE = "dashboard"  # the ``source`` of comparisons asked here
WORKERS = 2  # generations at once; more wait their turn
KEPT = 200  # finished generations whose progress is kept for the page


@dataclass(frozen=True)
class AskProgress:
    """Where one generation asked from the page is."""

    comparison_id: str
    problem: str
    requester: str
    stage: str  # what happens now, in words
    agents: Mapping[str, str] = field(default_factory=dict)  # agent -> what became of it
    done: bool = False
    error: str | None = None  # why no comparison could be made (it is stored if it was begun)


def agent_line(agent: str, answer: Mapping[str, Any]) -> str:
    """One agent's answer as the command line reports it."""
    if answer.get("error"):
        return f"{LABELS[agent]} failed: {answer['error']}"
    return f"{LABELS[agent]} answered ({float(answer.get('latency_s') or 0):.1f} s)"


class Asks:
    """Starts comparisons through ``services.comparisons`` and keeps their progress."""

    def __init__(self, services: Services, *, workers: int = WORKERS) -> None:
        self._services = services
        self._pool = GenerationPool(workers)
        self._lock = threading.Lock()
        self._runs: dict[str, AskProgress] = {}

    def ask(self, problem: str, *, requester: str) -> str:
        """Queue ``problem``; returns its comparison id at once.

        Raises:
            InvalidProblemError: before anything is queued or stored.
        """
        problem = validate_problem(problem)
        cid = new_comparison_id()
        self._set(AskProgress(cid, problem, requester, stage="waiting for a free worker"))
        _, ahead = self._pool.submit(lambda: self._run(cid))
        if ahead:
            self._update(cid, stage=f"waiting: {ahead} generation(s) before this one")
        return cid

    def progress(self, comparison_id: str) -> AskProgress | None:
        """The progress of a generation asked here since this process started, or ``None``."""
        with self._lock:
            return self._runs.get(comparison_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def _set(self, progress: AskProgress) -> None:
        with self._lock:
            self._runs[progress.comparison_id] = progress
            finished = [cid for cid, p in self._runs.items() if p.done]
            for cid in finished[: max(0, len(finished) - KEPT)]:
                del self._runs[cid]

    def _update(self, cid: str, **changes: Any) -> None:
        with self._lock:
            self._runs[cid] = replace(self._runs[cid], **changes)

    def _run(self, cid: str) -> None:
        asked = self.progress(cid)
        assert asked is not None  # kept until done
        agents: dict[str, str] = {agent: f"{LABELS[agent]}: working" for agent in AGENTS}

        def on_progress(node: str, update: Mapping[str, Any]) -> None:
            if node in AGENTS:
                agents[node] = agent_line(node, update["answers"][0])
                done = sum(not line.endswith("working") for line in agents.values())
                stage = (
                    "scoring the answers with the reranker"
                    if done == len(AGENTS)
                    else f"generating: {done} of {len(AGENTS)} agents done"
                )
                self._update(cid, agents=dict(agents), stage=stage)
            elif node == "tester" and update.get("tests"):
                self._update(cid, stage=f"the Tester wrote {len(update['tests'])} tests")
            elif node == "score" and "scores" in update:
                self._update(cid, stage=f"reranker scored {len(update['scores'])} answers")
            elif node == "choose_pair":
                self._update(cid, stage="pair chosen")

        try:
            if self._services.local_model:
                self._update(cid, stage="starting the embedded model")
                self._services.check_model()  # cannot run: said now, nothing stored
            self._update(cid, stage="generating: 0 of 3 agents done", agents=dict(agents))
            self._services.comparisons.start(
                asked.problem,
                requester=asked.requester,
                source=SOURCE,
                comparison_id=cid,
                on_progress=on_progress,
            )
        except CoderankError as exc:
            self._update(cid, done=True, error=str(exc), stage="failed")
        except Exception as exc:  # the page must not wait forever on a generation that died
            log.exception("comparison %s failed", cid)
            self._update(cid, done=True, error=f"an internal error ({type(exc).__name__})")
        else:
            self._update(cid, done=True, stage="ready")
