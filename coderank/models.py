"""Plain data passed between the agents, the graph, the store and the adapters, and the rules
every reader shares: the tally, the majority, the reranker's pick."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from coderank.errors import NoPairError

CHOICES = ("A", "B", "tie", "both_bad")
# ``closed_by`` of a comparison closed because its voting window ended (not a user id).
CLOSED_BY_TIME = "time"
# ``closed_by`` of a comparison closed because enough people voted.
CLOSED_BY_QUORUM = "quorum"

# A comparison's life: generating -> voting -> closed, or generating -> failed.
GENERATING, VOTING, CLOSED, FAILED = "generating", "voting", "closed", "failed"
STATUSES = (GENERATING, VOTING, CLOSED, FAILED)
# How voting closed.
BY_REQUESTER, BY_ADMIN, BY_QUORUM, BY_DEADLINE = "requester", "admin", "quorum", "deadline"
CLOSED_HOW = (BY_REQUESTER, BY_ADMIN, BY_QUORUM, BY_DEADLINE)

# A gold comparison (execution decides it): one answer passed every check, the other scored at
# most this (0.6: ran and failed at least half the checks; less: crashed or did not parse).
GOLD_LOSER_MAX = 0.6
_EPS = 1e-9

Tally = dict[str, int]


def tally(choices: Iterable[str]) -> Tally:
    """Votes per choice, every choice present (``choices``: one per voter)."""
    chosen = list(choices)  # a handful of votes: four counts are quicker than a Counter
    return {choice: chosen.count(choice) for choice in CHOICES}


def majority(counts: Mapping[str, int]) -> str | None:
    """The choice with the most votes; a draw at the top is a ``tie``; ``None`` with no votes."""
    top = max((counts.get(c, 0) for c in CHOICES), default=0)
    if top == 0:
        return None
    leaders = [c for c in CHOICES if counts.get(c, 0) == top]
    return leaders[0] if len(leaders) == 1 else "tie"


def reranker_pick(score_a: float, score_b: float) -> str | None:
    """Which shown answer the reranker scored higher: ``A``, ``B``, or ``None`` if equal."""
    if score_a == score_b:
        return None
    return "A" if score_a > score_b else "B"


def gold_pick(exec_a: float | None, exec_b: float | None) -> str | None:
    """``A`` or ``B`` where execution is decisive: that answer passed every check (at least one)
    while the other crashed, did not parse, or failed at least half of them; else ``None``."""
    if exec_a is None or exec_b is None:
        return None
    passed_all, failed = 1.0 - _EPS, GOLD_LOSER_MAX + _EPS  # scores are sums of floats
    if exec_a >= passed_all and exec_b <= failed:
        return "A"
    if exec_b >= passed_all and exec_a <= failed:
        return "B"
    return None


def reranker_agrees(outcome: str | None, score_a: float, score_b: float) -> bool | None:
    """Whether the reranker scored the humans' preferred answer higher (``None`` if undecided)."""
    if outcome not in ("A", "B"):
        return None
    return reranker_pick(score_a, score_b) == outcome


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        return cls(
            agent=str(data["agent"]),
            text=str(data.get("text") or ""),
            code=str(data.get("code") or ""),
            latency_s=float(data.get("latency_s") or 0.0),
            error=data.get("error"),
            fatal=bool(data.get("fatal", False)),
        )


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pair:
        return cls(
            a=str(data["a"]),
            b=str(data["b"]),
            policy=str(data.get("policy") or "unknown"),
            probability=float(data.get("probability") or 1.0),
            explored=bool(data.get("explored", False)),
            swapped=bool(data.get("swapped", False)),
        )


@dataclass(frozen=True)
class Comparison:
    """One comparison as every surface sees it, and as the ``comparisons`` collection holds it.

    Built from the LangGraph checkpoint by :mod:`coderank.comparisons` and written by the graph's
    nodes at each step, so the store always knows a comparison's status and outcome.
    """

    comparison_id: str
    problem: str
    requester: str
    source: str  # the surface that started it: "cli", "slack", ...
    created_at: str
    status: str = GENERATING
    # Where the adapter shows it (Slack: channel and message ts); empty for the command line.
    surface: Mapping[str, str] = field(default_factory=dict)
    answers: tuple[Answer, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    reranker_model: str | None = None
    llm_model: str | None = None
    pair: Pair | None = None
    votes: Mapping[str, str] = field(default_factory=dict)  # user -> choice
    deadline: str | None = None  # voting closes by itself then (None: only by hand or quorum)
    closed_at: str | None = None
    closed_by: str | None = None  # a user id, "quorum" or "time"
    closed_how: str | None = None  # requester, admin, quorum or deadline
    error: str | None = None
    updated_at: str | None = None
    # agent -> what running its code showed ("5/6 checks passed", the first error); empty when
    # execution is off. Shown at the reveal only.
    checks: Mapping[str, str] = field(default_factory=dict)
    execution_scores: Mapping[str, float] = field(default_factory=dict)  # agent -> 0..1
    tests: tuple[str, ...] = ()  # the Tester's tests, written from the problem alone
    # agent -> its answer's style (coderank.evaluation.style), for style-controlled standings
    style: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    # --- derived ----------------------------------------------------------------------------

    @property
    def execution_pick(self) -> str | None:
        """``A`` or ``B``: the shown answer that ran better (None: equal, or not run)."""
        if self.pair is None:
            return None
        a = self.execution_scores.get(self.pair.a)
        b = self.execution_scores.get(self.pair.b)
        if a is None or b is None or a == b:
            return None
        return "A" if a > b else "B"

    @property
    def coderank_pick(self) -> str | None:
        """CodeRank's own pick of the pair shown: execution where it decides, else the reranker
        (the same rule as the ``combined`` signal of the evaluation)."""
        return self.execution_pick or self.reranker_pick

    @property
    def pick_signal(self) -> str | None:
        """Which signal made :attr:`coderank_pick`: ``execution`` or ``reranker``."""
        if self.execution_pick:
            return "execution"
        return "reranker" if self.reranker_pick else None

    @property
    def gold(self) -> str | None:
        """``A`` or ``B`` where execution decides the pair shown (see :func:`gold_pick`)."""
        if self.pair is None:
            return None
        ran = self.execution_scores
        return gold_pick(ran.get(self.pair.a), ran.get(self.pair.b))

    def pick_text(self) -> str:
        """Which signal picked what: ``CodeRank picked A (execution decided; the reranker alone
        picked B).`` ("" before a pair is shown)."""
        pick = self.coderank_pick
        if self.pair is None:
            return ""
        if pick is None:
            return "CodeRank picked neither: the answers ran alike and scored alike."
        if self.pick_signal == "reranker":
            why = "by the reranker; execution did not separate them" if self.checks else ""
            return f"CodeRank picked {pick}" + (f" ({why})." if why else ".")
        alone = self.reranker_pick
        reranker = "the reranker agreed" if alone == pick else f"the reranker alone picked {alone}"
        return f"CodeRank picked {pick} (execution decided; {reranker})."

    def checks_text(self) -> str:
        """What running the shown answers showed, by label: ``A: 5/6 checks passed · B: ...``
        (empty when execution was off or no pair was shown)."""
        if self.pair is None:
            return ""
        shown = {"A": self.pair.a, "B": self.pair.b}
        return " · ".join(
            f"{label}: {self.checks[a]}" for label, a in shown.items() if a in self.checks
        )

    @property
    def closed(self) -> bool:
        return self.status in (CLOSED, FAILED)

    @property
    def voting(self) -> bool:
        return self.status == VOTING

    @property
    def counts(self) -> Tally:
        return tally(self.votes.values())

    @property
    def voters(self) -> int:
        return len(self.votes)

    @property
    def outcome(self) -> str | None:
        """The majority of the votes (once closed, the comparison's outcome)."""
        return majority(self.counts)

    @property
    def score_a(self) -> float:
        return self.scores[self._pair.a]

    @property
    def score_b(self) -> float:
        return self.scores[self._pair.b]

    @property
    def reranker_pick(self) -> str | None:
        return reranker_pick(self.score_a, self.score_b) if self.pair else None

    @property
    def reranker_agrees(self) -> bool | None:
        if self.pair is None or self.status != CLOSED:
            return None
        return reranker_agrees(self.outcome, self.score_a, self.score_b)

    @property
    def _pair(self) -> Pair:
        if self.pair is None:
            raise NoPairError(f"comparison {self.comparison_id} has no pair shown")
        return self.pair

    def answer(self, agent: str) -> Answer:
        """``agent``'s answer.

        Raises:
            NoPairError: the comparison holds no answer of ``agent`` (e.g. read from the store,
                which keeps the answers' texts in ``responses``).
        """
        for answer in self.answers:
            if answer.agent == agent:
                return answer
        raise NoPairError(f"comparison {self.comparison_id} holds no answer of {agent}")

    def shown(self) -> dict[str, Answer]:
        """``{"A": answer, "B": answer}``: the pair as shown."""
        return {"A": self.answer(self._pair.a), "B": self.answer(self._pair.b)}

    # --- the stored document ----------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """The ``comparisons`` document (``_id`` = the comparison id)."""
        doc = {
            "_id": self.comparison_id,
            "comparison_id": self.comparison_id,
            "problem": self.problem,
            "requester": self.requester,
            "source": self.source,
            "surface": dict(self.surface),
            "channel": self.surface.get("channel"),
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "agents": [a.agent for a in self.answers if a.ok],
            "failed_agents": {a.agent: a.error for a in self.answers if not a.ok},
            "scores": dict(self.scores),
            "models": {"llm": self.llm_model, "reranker": self.reranker_model},
            "pair": self.pair.to_dict() if self.pair else None,
            "votes": dict(self.votes),
            "tally": self.counts,
            "voters": self.voters,
            "majority": self.outcome if self.pair else None,
            "reranker_pick": self.reranker_pick,
            "reranker_agrees": self.reranker_agrees,
            "deadline": self.deadline,
            "closed_at": self.closed_at,
            "closed_by": self.closed_by,
            "closed_how": self.closed_how,
            "error": self.error,
            "checks": dict(self.checks),
            "execution_scores": dict(self.execution_scores),
            "execution_pick": self.execution_pick,
            "coderank_pick": self.coderank_pick,
            "pick_signal": self.pick_signal,
            "gold": self.gold,
            "tests": list(self.tests),
            "style": {agent: dict(features) for agent, features in self.style.items()},
        }
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], answers: Iterable[Answer] = ()) -> Comparison:
        """A stored comparison (without its answers' texts unless ``answers`` are given)."""
        models = doc.get("models") or {}
        return cls(
            comparison_id=str(doc["comparison_id"]),
            problem=str(doc.get("problem") or ""),
            requester=str(doc.get("requester") or ""),
            source=str(doc.get("source") or ""),
            created_at=str(doc.get("created_at") or ""),
            status=str(doc.get("status") or GENERATING),
            surface=dict(doc.get("surface") or {}),
            answers=tuple(answers),
            scores={k: float(v) for k, v in (doc.get("scores") or {}).items()},
            reranker_model=models.get("reranker"),
            llm_model=models.get("llm"),
            pair=Pair.from_dict(doc["pair"]) if doc.get("pair") else None,
            votes=dict(doc.get("votes") or {}),
            deadline=doc.get("deadline"),
            closed_at=doc.get("closed_at"),
            closed_by=doc.get("closed_by"),
            closed_how=doc.get("closed_how"),
            error=doc.get("error"),
            updated_at=doc.get("updated_at"),
            checks=dict(doc.get("checks") or {}),
            execution_scores={k: float(v) for k, v in (doc.get("execution_scores") or {}).items()},
            tests=tuple(str(t) for t in doc.get("tests") or ()),
            style={
                str(agent): {str(k): float(v) for k, v in features.items()}
                for agent, features in (doc.get("style") or {}).items()
            },
        )


@dataclass(frozen=True)
class GenerationRequest:
    """What is needed to generate a comparison, and where the adapter shows it."""

    comparison_id: str
    problem: str
    requester: str
    source: str
    surface: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationRequest:
        return cls(
            comparison_id=str(data["comparison_id"]),
            problem=str(data["problem"]),
            requester=str(data["requester"]),
            source=str(data["source"]),
            surface=dict(data.get("surface") or {}),
        )
