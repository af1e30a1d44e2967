"""What one person sees of CodeRank: the comparisons they asked for, their votes, and how often
they agreed with the team's majority. Pure functions over ``comparisons`` documents, and the
store reads that feed them."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain
from typing import Any

from coderank.config import Settings
from coderank.errors import ModelError
from coderank.evaluation.metrics import Agreement, Estimate, agreement, wilson
from coderank.evaluation.pairs import judged_pairs
from coderank.models import CLOSED, VOTING, Answer, Comparison
from coderank.reranker.registry import PromotedModel, read_promoted, reranker_source
from coderank.store import COMPARISONS, FEEDBACK, RESPONSES, Store, Window


@dataclass(frozen=True)
class UserVote:
    """One person's current vote on one comparison."""

    comparison: Comparison
    choice: str

    @property
    def agreed(self) -> bool | None:
        """Once closed with other voters too: whether this vote is the outcome (the majority; a
        draw at the top is a tie). ``None`` while open, or when the person voted alone."""
        c = self.comparison
        if c.status != CLOSED or c.voters < 2 or c.outcome is None:
            return None
        return self.choice == c.outcome


@dataclass(frozen=True)
class UserOverview:
    """A person's recent comparisons and votes, and their agreement with the team."""

    user: str
    asked: list[Comparison]  # the comparisons they asked for, most recent first
    votes: list[UserVote]  # their votes, most recent first
    asked_total: int
    voted_total: int
    agreed: int  # of ``agreement.n``
    agreement: Estimate  # share of closed comparisons voted on by others too where they agreed
    alone: int  # closed comparisons on which they were the only voter (not in ``agreement``)


def _recent(c: Comparison) -> str:
    return c.updated_at or c.closed_at or c.created_at


def user_overview(
    user: str,
    *,
    asked: Iterable[Mapping[str, Any]],
    voted_on: Iterable[Mapping[str, Any]],
    limit: int = 10,
) -> UserOverview:
    """``user``'s overview from ``comparisons`` documents: ``asked`` (those they requested) and
    ``voted_on`` (any comparisons; those without a vote of ``user`` are skipped, each comparison
    counts once). Only closed comparisons count in the agreement."""
    mine = sorted(
        (Comparison.from_document(d) for d in asked if d.get("requester") == user),
        key=_recent,
        reverse=True,
    )
    seen: dict[str, UserVote] = {}
    for doc in voted_on:
        choice = (doc.get("votes") or {}).get(user)
        if choice is not None:
            c = Comparison.from_document(doc)
            seen[c.comparison_id] = UserVote(c, str(choice))
    votes = sorted(seen.values(), key=lambda v: _recent(v.comparison), reverse=True)
    judged = [v.agreed for v in votes if v.agreed is not None]
    alone = sum(1 for v in votes if v.comparison.status == CLOSED and v.comparison.voters == 1)
    return UserOverview(
        user=user,
        asked=mine[:limit],
        votes=votes[:limit],
        asked_total=len(mine),
        voted_total=len(votes),
        agreed=sum(judged),
        agreement=wilson(sum(judged), len(judged)),
        alone=alone,
    )


def read_user_overview(
    store: Store,
    user: str,
    *,
    closed: Iterable[Mapping[str, Any]] | None = None,
    limit: int = 10,
) -> UserOverview:
    """:func:`user_overview` from the store: the comparisons ``user`` asked for (``requester``
    is indexed), and their votes among the open and the closed comparisons (``closed``: the closed
    ones if the caller has already read them)."""
    asked = store.find(COMPARISONS, {"requester": user})
    closed = store.find(COMPARISONS, {"status": CLOSED}) if closed is None else closed
    open_ = store.find(COMPARISONS, {"status": VOTING})
    return user_overview(user, asked=asked, voted_on=chain(open_, closed), limit=limit)


# --- Browsing the store (the dashboard): recent comparisons, one in full, figures per period,
# --- the surfaces comparisons came from, the reranker in use.


def _created(doc: Mapping[str, Any]) -> str:
    return str(doc.get("created_at") or "")


def recent_comparisons(
    store: Store, *, limit: int = 50, status: str | None = None
) -> list[Comparison]:
    """The ``limit`` most recently created comparisons (only those with ``status`` if given),
    newest first, without their answers' texts. Streamed: at most ``limit`` are held."""
    docs = store.find(COMPARISONS, {"status": status} if status else None)
    return [Comparison.from_document(d) for d in heapq.nlargest(limit, docs, key=_created)]


@dataclass(frozen=True)
class StoredVote:
    """One voter's current vote, as the ``feedback`` collection holds it."""

    user: str
    choice: str
    created_at: str  # the first vote
    updated_at: str  # the current one


@dataclass(frozen=True)
class StoredComparison:
    """A comparison with every answer (failed ones too) and every vote the store holds."""

    comparison: Comparison  # ``answers``: from ``responses``, in agent order
    votes: list[StoredVote]  # oldest vote first


def stored_comparison(store: Store, comparison_id: str) -> StoredComparison | None:
    """Everything stored about ``comparison_id``, or ``None`` if there is no such comparison."""
    doc = store.get(COMPARISONS, comparison_id)
    if doc is None:
        return None
    where = {"comparison_id": comparison_id}
    responses = sorted(store.find(RESPONSES, where), key=lambda r: str(r.get("agent")))
    votes = [
        StoredVote(
            user=str(v["user"]),
            choice=str(v["choice"]),
            created_at=str(v.get("created_at") or ""),
            updated_at=str(v.get("updated_at") or v.get("created_at") or ""),
        )
        for v in store.find(FEEDBACK, where)
    ]
    return StoredComparison(
        comparison=Comparison.from_document(doc, [Answer.from_dict(r) for r in responses]),
        votes=sorted(votes, key=lambda v: v.updated_at),
    )


def from_surface(
    docs: Iterable[Mapping[str, Any]], *, source: str | None = None, channel: str | None = None
) -> list[Mapping[str, Any]]:
    """The ``comparisons`` documents started from ``source`` (``cli``, ``slack``,
    ``dashboard``) and shown in ``channel`` (a Slack channel id); ``None`` matches any."""
    return [
        d
        for d in docs
        if (source is None or d.get("source") == source)
        and (channel is None or d.get("channel") == channel)
    ]


def surface_choices(docs: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The sources and the channels ``docs`` came from, sorted (to filter by)."""
    sources, channels = set(), set()
    for d in docs:
        if d.get("source"):
            sources.add(str(d["source"]))
        if d.get("channel"):
            channels.add(str(d["channel"]))
    return sorted(sources), sorted(channels)


@dataclass(frozen=True)
class PeriodAgreement:
    """The reranker's agreement with the votes over the comparisons closed in one period."""

    since: date  # first day
    until: date  # first day after
    agreement: Agreement


def agreement_by_period(
    closed: Iterable[Mapping[str, Any]],
    *,
    since: date | None = None,
    until: date | None = None,
    days: int = 7,
    most: int = 26,
) -> list[PeriodAgreement]:
    """Accuracy, tau-b and rho (with their 95% intervals) per period of ``days`` days from
    ``since`` (default: the day the first of ``closed`` closed) until ``until`` (default: the
    day after the last); each comparison counts in the period it closed in. A longer range
    gets periods of a multiple of ``days``, so that there are at most ``most``."""
    docs = [d for d in closed if d.get("closed_at")]
    days_closed = [date.fromisoformat(str(d["closed_at"])[:10]) for d in docs]
    first = since or min(days_closed, default=None)
    end = until or (max(days_closed) + timedelta(days=1) if days_closed else None)
    if first is None or end is None or end <= first:
        return []
    step = days * max(1, math.ceil((end - first).days / (days * most)))
    periods = []
    start = first
    while start < end:
        stop = min(start + timedelta(days=step), end)
        window = Window(start.isoformat(), stop.isoformat())
        bucket = [d for d in docs if window.contains(str(d["closed_at"]))]
        periods.append(PeriodAgreement(start, stop, agreement(judged_pairs(bucket))))
        start = stop
    return periods


@dataclass(frozen=True)
class RerankerInUse:
    """Which reranker scores new comparisons, and why."""

    model_id: str | None  # None when it cannot be told (``error`` says why)
    pinned: bool  # by RERANKER_LOAD_DIR, which wins over a promotion
    promoted: PromotedModel | None  # the last promotion, if any
    error: str | None = None


def reranker_in_use(settings: Settings, store: Store) -> RerankerInUse:
    """The reranker in use (see :mod:`coderank.reranker.registry`); loads no model."""
    pinned = settings.reranker_load_dir is not None
    try:
        promoted = read_promoted(settings, store)
        model_id = reranker_source(settings, store)[1]
    except ModelError as exc:  # a promoted model this machine cannot see
        return RerankerInUse(None, pinned, None, str(exc))
    return RerankerInUse(model_id, pinned, promoted)
