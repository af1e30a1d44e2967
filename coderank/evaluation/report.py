"""An evaluation run: stream the comparisons closed in a window, compute every figure, store the
run. (Its text: :mod:`coderank.evaluation.formatting`.)"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from coderank.evaluation.metrics import Agreement, Estimate, agreement, wilson
from coderank.evaluation.pairs import JudgedPair, judged_pairs
from coderank.evaluation.preferences import (
    AgentStanding,
    VotingHabits,
    standings,
    style_controlled,
    voting_habits,
)
from coderank.evaluation.voters import anomalies
from coderank.models import CLOSED
from coderank.reranker.base import Reranker
from coderank.store import (
    COMPARISONS,
    EVALUATION_RESULTS,
    RESPONSES,
    Document,
    Store,
    Window,
    doc_id,
)


@dataclass(frozen=True)
class EvalReport:
    """Every figure of one evaluation window."""

    since: str | None
    until: str | None
    created_at: str
    models: dict[str, int]  # reranker model -> pairs it scored
    agreement: Agreement
    standings: list[AgentStanding]
    habits: VotingHabits
    kind: str = "evaluation"
    rescored_with: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Accuracy against the team's majority of each signal: reranker, execution, combined.
    signals: dict[str, Estimate] = field(default_factory=dict)
    # Style control: each style feature's effect on the log-odds of winning (per SD).
    style_effects: dict[str, Estimate] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return doc_id(
            "eval", self.kind, self.since or "start", self.until or "end", self.created_at
        )

    def to_document(self) -> dict[str, Any]:
        return {"_id": self.doc_id, **asdict(self)}


def closed_between(
    store: Store, window: Window, *, without: Collection[str] = ()
) -> Iterator[Document]:
    """The comparisons that closed in ``window``, filtered by the store (``status`` and
    ``closed_at`` are indexed), streamed; the votes of the voters in ``without`` left out."""
    docs = store.find(COMPARISONS, {"status": CLOSED, **window.filter("closed_at")})
    return without_voters(docs, without) if without else docs


def without_voters(docs: Iterable[Document], voters: Collection[str]) -> Iterator[Document]:
    """``docs`` with the votes of ``voters`` left out."""
    left_out = set(voters)
    for doc in docs:
        votes = doc.get("votes") or {}
        yield {**doc, "votes": {u: c for u, c in votes.items() if u not in left_out}}


def excluded_voters(store: Store, policy: str) -> frozenset[str]:
    """The voters whose votes count nowhere: the flagged ones (``coderank.evaluation.voters``)
    under ``FLAGGED_VOTERS=exclude``, none under ``keep``."""
    if policy != "exclude":
        return frozenset()
    return flagged_voters(closed_between(store, Window()))


def flagged_voters(comparisons: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The voters the anomalous-voter tests flag on the ``comparisons`` documents."""
    pairs = judged_pairs(comparisons)
    return frozenset(voter for voter, a in anomalies(pairs).items() if a.flagged)


def rescore(pairs: list[JudgedPair], store: Store, reranker: Reranker) -> list[JudgedPair]:
    """The pairs whose two answers are stored, scored again by ``reranker`` (new objects: the
    given pairs keep their stored scores). Pairs with a missing answer are left out."""
    rescored = []
    for pair in pairs:
        a = store.get(RESPONSES, doc_id(pair.comparison_id, pair.agent_a))
        b = store.get(RESPONSES, doc_id(pair.comparison_id, pair.agent_b))
        if a is None or b is None:
            continue
        again = copy.copy(pair)
        again.score_a, again.score_b = reranker.score(a["problem"], [a["text"], b["text"]])
        again.model = reranker.model_id
        rescored.append(again)
    return rescored


def report_of(
    pairs: list[JudgedPair],
    *,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
    kind: str = "evaluation",
    rescored_with: str | None = None,
) -> EvalReport:
    """Every figure over ``pairs``."""
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    styled = style_controlled(pairs)  # fitted once: the leaderboard and the effects
    return EvalReport(
        since=since,
        until=until,
        created_at=created,
        models=dict(Counter(p.model for p in pairs if p.preference is not None)),
        agreement=agreement(pairs),
        standings=standings(pairs, styled=styled),
        habits=voting_habits(pairs),
        kind=kind,
        rescored_with=rescored_with,
        signals=signal_accuracy(pairs),
        style_effects=styled.effects,
    )


def signal_accuracy(pairs: Iterable[JudgedPair]) -> dict[str, Estimate]:
    """On decisive pairs: the reranker's accuracy, execution's where it decides (one answer ran
    better), and both combined (execution where it decides, else the reranker); empty when no
    pair was run."""
    decisive = [p for p in pairs if p.decisive]
    if not any(p.exec_a is not None for p in decisive):
        return {}
    ran = [p for p in decisive if p.execution_decides]
    return {
        "reranker": wilson(sum(p.reranker_right for p in decisive), len(decisive)),
        "execution": wilson(sum(p.execution_right for p in ran), len(ran)),
        "combined": wilson(sum(p.combined_right for p in decisive), len(decisive)),
    }


def evaluate(
    comparisons: Iterable[Mapping[str, Any]],
    *,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
    kind: str = "evaluation",
) -> EvalReport:
    """Evaluate the comparisons (``comparisons`` documents) that closed in ``[since, until)``."""
    window = Window(since, until)
    pairs = judged_pairs(d for d in comparisons if window.contains(d.get("closed_at")))
    return report_of(pairs, since=since, until=until, now=now, kind=kind)


def evaluate_store(
    store: Store,
    *,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
    kind: str = "evaluation",
    without: Collection[str] = (),
) -> EvalReport:
    """Evaluate the comparisons closed in the window (streamed from the store) and store the
    run in evaluation_results (``without``: voters left out)."""
    closed = closed_between(store, Window(since, until), without=without)
    report = evaluate(closed, since=since, until=until, now=now, kind=kind)
    store.upsert(EVALUATION_RESULTS, report.to_document())
    return report


def compare_store(
    store: Store,
    reranker: Reranker,
    *,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
    without: Collection[str] = (),
) -> tuple[EvalReport, EvalReport]:
    """The stored scores and ``reranker``'s scores on the same pairs (those whose answers are
    stored); both runs are stored in evaluation_results."""
    pairs = judged_pairs(closed_between(store, Window(since, until), without=without))
    again = rescore(pairs, store, reranker)
    kept = {p.comparison_id for p in again}
    shared = [p for p in pairs if p.comparison_id in kept]
    stored = report_of(shared, since=since, until=until, now=now)
    other = report_of(
        again, since=since, until=until, now=now, kind="rescored", rescored_with=reranker.model_id
    )
    for report in (stored, other):
        store.upsert(EVALUATION_RESULTS, report.to_document())
    return stored, other
