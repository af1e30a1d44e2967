"""The weekly digest: this week's evaluation run, last week's for comparison, and a few weeks of
history. Pure; the Slack message and the chart are built from a ``Digest`` elsewhere."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from coderank.errors import EvaluationError
from coderank.evaluation.metrics import Estimate, agreement
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.report import EvalReport, closed_between, evaluate
from coderank.store import EVALUATION_RESULTS, Store, Window

WEEK = timedelta(days=7)
DIGEST_KIND = "digest"


@dataclass(frozen=True)
class WeekPoint:
    """One week of the history: how its closed comparisons agree with the reranker."""

    start: datetime
    end: datetime
    accuracy: Estimate
    kendall_tau: Estimate
    pairs: int  # pairs with a preference (A, B or tie)
    decisive: int


@dataclass(frozen=True)
class Digest:
    """What the weekly digest shows."""

    now: datetime
    this_week: EvalReport  # comparisons closed in [now - 7 days, now)
    last_week: EvalReport  # closed in [now - 14 days, now - 7 days)
    history: list[WeekPoint]  # one point per week, oldest first; the last is this week


def bound(moment: datetime) -> str:
    """A window bound: UTC, whole seconds, ``+00:00``.

    Stored timestamps are UTC ISO 8601 with or without fractions of a second; both compare
    correctly as strings against a bound without them (``.`` and ``+`` sort after it).
    """
    if moment.tzinfo is None:
        raise EvaluationError("the digest needs a timezone-aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def build_digest(
    comparisons: Iterable[Mapping[str, Any]], *, now: datetime, weeks: int = 8
) -> Digest:
    """Read ``comparisons`` documents once and evaluate the last ``weeks`` weeks ending at
    ``now``: each closed comparison counts in the week it closed in.

    This week's and last week's reports equal ``evaluate(comparisons, since=..., until=...)``
    (and ``scripts/evaluate_reranker.py``) over the same windows.
    """
    if weeks < 1:
        raise EvaluationError("weeks must be at least 1")
    if now.tzinfo is None:
        raise EvaluationError("the digest needs a timezone-aware datetime")
    now = now.astimezone(UTC)
    span = max(weeks, 2)
    starts = [now - WEEK * (span - i) for i in range(span + 1)]  # oldest first, ends at now
    windows = [Window(bound(a), bound(b)) for a, b in itertools.pairwise(starts)]
    buckets: list[list[Mapping[str, Any]]] = [[] for _ in range(span)]
    for doc in comparisons:
        closed_at = doc.get("closed_at")
        week = next((i for i, w in enumerate(windows) if w.contains(closed_at)), None)
        if week is not None:
            buckets[week].append(doc)

    def report(i: int) -> EvalReport:
        w = windows[i]
        return evaluate(buckets[i], since=w.since, until=w.until, now=now, kind=DIGEST_KIND)

    this_week, last_week = report(span - 1), report(span - 2)
    history = []
    for i in range(span - weeks, span):
        if i == span - 1:
            agreed = this_week.agreement
        elif i == span - 2:
            agreed = last_week.agreement
        else:
            agreed = agreement(judged_pairs(buckets[i]))
        history.append(
            WeekPoint(
                start=starts[i],
                end=starts[i + 1],
                accuracy=agreed.accuracy,
                kendall_tau=agreed.kendall_tau,
                pairs=agreed.pairs,
                decisive=agreed.decisive,
            )
        )
    return Digest(now=now, this_week=this_week, last_week=last_week, history=history)


def direction(this: Estimate, last: Estimate, *, digits: int | None = None) -> str:
    """``"up"``, ``"down"`` or ``"same"`` from last week to this one; ``"n/a"`` when either is
    missing. With ``digits``, values equal once rounded to that many decimals are the same."""
    if this.value is None or last.value is None:
        return "n/a"
    a, b = this.value, last.value
    if digits is not None:
        a, b = round(a, digits), round(b, digits)
    return "up" if a > b else "down" if a < b else "same"


def digest_from_store(
    store: Store, *, now: datetime, weeks: int = 8, without: Collection[str] = ()
) -> Digest:
    """Build the digest from the comparisons closed in the weeks shown (``without``: voters left
    out) and store this week's report as an evaluation run (kind ``"digest"``)."""
    since = bound(now - WEEK * max(weeks, 2))
    closed = closed_between(store, Window(since, None), without=without)
    digest = build_digest(closed, now=now, weeks=weeks)
    store.upsert(EVALUATION_RESULTS, digest.this_week.to_document())
    return digest
