"""An evaluation run: stream the votes in a window, compute every figure, store the run."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from coderank.evaluation.metrics import MIN_DECISIVE, Agreement, Estimate, agreement
from coderank.evaluation.pairs import JudgedPair, judged_pairs
from coderank.evaluation.preferences import AgentStanding, VotingHabits, standings, voting_habits
from coderank.reranker.base import Reranker
from coderank.store import (
    EVALUATION_RESULTS,
    FEEDBACK,
    RESPONSES,
    Document,
    Store,
    doc_id,
    window,
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

    @property
    def doc_id(self) -> str:
        return doc_id(
            "eval", self.kind, self.since or "start", self.until or "end", self.created_at
        )

    def to_document(self) -> dict[str, Any]:
        return {"_id": self.doc_id, **asdict(self)}


def in_window(
    feedback: Iterable[Mapping[str, Any]], since: str | None, until: str | None
) -> Iterator[Mapping[str, Any]]:
    """Votes cast in ``[since, until)`` (ISO 8601 strings compare in time order)."""
    for doc in feedback:
        created = str(doc.get("created_at") or "")
        if (since is None or created >= since) and (until is None or created < until):
            yield doc


def votes_between(store: Store, since: str | None, until: str | None) -> Iterator[Document]:
    """The stored votes cast in ``[since, until)``, filtered by the store (``created_at`` is
    indexed), streamed."""
    return store.find(FEEDBACK, window("created_at", since, until))


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
    return EvalReport(
        since=since,
        until=until,
        created_at=created,
        models=dict(Counter(p.model for p in pairs if p.preference is not None)),
        agreement=agreement(pairs),
        standings=standings(pairs),
        habits=voting_habits(pairs),
        kind=kind,
        rescored_with=rescored_with,
    )


def evaluate(
    feedback: Iterable[Mapping[str, Any]],
    *,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
    kind: str = "evaluation",
) -> EvalReport:
    """Evaluate the votes in ``[since, until)``."""
    pairs = judged_pairs(in_window(feedback, since, until))
    return report_of(pairs, since=since, until=until, now=now, kind=kind)


def evaluate_store(store: Store, **options: Any) -> EvalReport:
    """Evaluate from the store's feedback (streamed) and store the run in evaluation_results."""
    votes = votes_between(store, options.get("since"), options.get("until"))
    report = evaluate(votes, **options)
    store.upsert(EVALUATION_RESULTS, report.to_document())
    return report


def compare_store(
    store: Store,
    reranker: Reranker,
    *,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
) -> tuple[EvalReport, EvalReport]:
    """The stored scores and ``reranker``'s scores on the same pairs (those whose answers are
    stored); both runs are stored in evaluation_results."""
    pairs = judged_pairs(votes_between(store, since, until))
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


def too_few_pairs(a: Agreement) -> str:
    """Why figures over ``a``'s pairs cannot yet tell the reranker from chance (shown in every
    report while ``a.enough_data`` is False)."""
    return (
        f"Only {a.decisive} decisive pairs: too few to tell a reranker that is right 60% of the "
        f"time from chance (50%); about {MIN_DECISIVE} are needed."
    )


def format_estimate(e: Estimate, *, percent: bool = False, digits: int = 3) -> str:
    if e.value is None:
        return f"n/a (n={e.n})"
    scale = 100 if percent else 1
    unit = "%" if percent else ""
    d = 1 if percent else digits
    interval = (
        f" [{e.low * scale:.{d}f}, {e.high * scale:.{d}f}]"
        if e.low is not None and e.high is not None
        else ""
    )
    return f"{e.value * scale:.{d}f}{unit}{interval} (n={e.n})"


def format_report(report: EvalReport) -> str:
    """The report as a plain-text table (what ``scripts/evaluate_reranker.py`` prints)."""
    a = report.agreement
    window = f"{report.since or 'the start'} to {report.until or 'now'}"
    models = ", ".join(f"{m} ({n})" for m, n in report.models.items()) or "none"
    rows = [
        ("window", window),
        ("model used", models),
        ("pairs evaluated", f"{a.pairs} ({a.decisive} decisive)"),
        ("accuracy", format_estimate(a.accuracy, percent=True)),
        ("accuracy (bootstrap interval)", format_estimate(a.accuracy_bootstrap, percent=True)),
        ("accuracy, reweighted by 1/p(pair)", format_estimate(a.accuracy_weighted, percent=True)),
        ("Kendall's tau-b", format_estimate(a.kendall_tau)),
        ("Kendall's tau-b, reweighted", format_estimate(a.kendall_tau_weighted)),
        ("Spearman's rho", format_estimate(a.spearman_rho)),
        ("position bias (votes for A)", format_estimate(report.habits.position_bias, percent=True)),
        ("tie rate", format_estimate(report.habits.tie_rate, percent=True)),
        ("both-bad rate", format_estimate(report.habits.both_bad_rate, percent=True)),
        ("voter agreement (Krippendorff's alpha)", format_estimate(report.habits.voter_agreement)),
    ]
    for s in report.standings:
        rows.append((f"agent {s.agent}: win rate", format_estimate(s.win_rate, percent=True)))
        rows.append((f"agent {s.agent}: Bradley-Terry", format_estimate(s.strength, digits=0)))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if not a.enough_data:
        lines.append(f"warning: {too_few_pairs(a)}")
    return "\n".join(lines)
