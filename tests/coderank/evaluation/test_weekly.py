"""The weekly digest's windows, history and week-on-week directions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from scipy import stats

from coderank.evaluation.metrics import Estimate
from coderank.evaluation.report import evaluate
from coderank.evaluation.weekly import build_digest, digest_from_store, direction
from coderank.store import COMPARISONS, EVALUATION_RESULTS
from coderank.store.sqlite import SQLiteStore
from harness.comparison_docs import from_votes

NOW = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday, midnight UTC


def vote(cid: str, user: str, choice: str, a: float, b: float, at: str) -> dict:
    return {
        "_id": f"{cid}:{user}", "comparison_id": cid, "user": user, "choice": choice,
        "agent_a": "explainer", "agent_b": "optimizer", "score_a": a, "score_b": b,
        "pair_probability": 0.5, "reranker_model": "m1", "created_at": at,
    }  # fmt: skip


# This week is [Nov 16, Nov 23), last week [Nov 9, Nov 16), the week before [Nov 2, Nov 9).
# ``from_votes`` closes each comparison at its last vote, and a comparison counts, with all its
# votes, in the week it closed in.
VOTES = [
    vote("c1", "u1", "A", 0.9, 0.1, "2026-11-16T00:00:00+00:00"),
    vote("c1", "u2", "A", 0.9, 0.1, "2026-11-18T10:00:00.250+00:00"),  # closes: right
    vote("c2", "u1", "A", 0.8, 0.2, "2026-11-19T12:00:00.000+00:00"),  # right
    vote("c3", "u1", "B", 0.3, 0.6, "2026-11-20T08:30:00.000+00:00"),  # right
    vote("c4", "u1", "tie", 0.55, 0.45, "2026-11-21T09:00:00.000+00:00"),  # not decisive
    # Cast across the week's start, closed this week: A against B is a draw, so a tie (not
    # decisive), and its A vote no longer counts last week.
    vote("c5", "u1", "A", 0.6, 0.4, "2026-11-15T23:59:59.999+00:00"),
    vote("c5", "u2", "B", 0.6, 0.4, "2026-11-16T09:00:00.000+00:00"),
    vote("c6", "u1", "B", 0.5, 0.4, "2026-11-10T14:00:00.000+00:00"),  # last week: wrong
    vote("c7", "u1", "A", 0.9, 0.1, "2026-10-01T10:00:00.000+00:00"),  # before the history
    vote("c8", "u1", "A", 0.9, 0.1, "2026-11-23T00:00:00.000+00:00"),  # closes at now: next week
    # c1's and c5's votes on the bound between the weeks no longer place them; these two close
    # on it. c9 at last week's last instant (right), c10 at this week's first instant (wrong).
    vote("c9", "u1", "A", 0.6, 0.4, "2026-11-15T23:59:59.999+00:00"),
    vote("c10", "u1", "A", 0.4, 0.6, "2026-11-16T00:00:00+00:00"),
]
HAND = from_votes(VOTES)


def test_windows_and_history_on_a_hand_worked_example() -> None:
    digest = build_digest(HAND, now=NOW, weeks=3)
    this, last = digest.this_week, digest.last_week
    assert (this.since, this.until) == ("2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00")
    assert (last.since, last.until) == ("2026-11-09T00:00:00+00:00", "2026-11-16T00:00:00+00:00")
    assert this.kind == "digest" and this.created_at == "2026-11-23T00:00:00+00:00"
    # This week: c1, c2, c3 right and c10 wrong (decisive); c4 and c5 ties. Votes: c1 and c5
    # two each, the other four one each.
    assert this.agreement.accuracy.value == 3 / 4 and this.agreement.decisive == 4
    assert this.agreement.pairs == 6 and this.habits.votes == 8
    # Last week: c9 right, c6 wrong.
    assert last.agreement.accuracy.value == 1 / 2 and last.agreement.pairs == 2
    assert last.agreement.decisive == 2 and last.habits.votes == 2
    # Score differences and preferences of c1, c2, c3, c4, c5 (a tie), c10 this week.
    tau = stats.kendalltau([0.8, 0.6, -0.3, 0.1, 0.2, -0.2], [1, 1, -1, 0, 0, 1]).statistic
    assert this.agreement.kendall_tau.value == pytest.approx(tau)

    assert [w.start.date().isoformat() for w in digest.history] == [
        "2026-11-02", "2026-11-09", "2026-11-16",
    ]  # fmt: skip
    assert [w.end for w in digest.history] == [w.start + timedelta(days=7) for w in digest.history]
    assert [w.decisive for w in digest.history] == [0, 2, 4]
    assert [w.pairs for w in digest.history] == [0, 2, 6]
    assert [w.accuracy.value for w in digest.history] == [None, 0.5, 0.75]
    assert digest.history[-1].kendall_tau == this.agreement.kendall_tau
    assert len(build_digest(HAND, now=NOW).history) == 8
    assert len(build_digest(HAND, now=NOW, weeks=1).history) == 1


def synthetic(seed: int = 3) -> list[dict]:
    """Eight weeks of comparisons before NOW, 1-3 voters each, a few closing on window bounds
    (those closing at or after NOW count in no week)."""
    rng = random.Random(seed)
    docs = []
    for i in range(400):
        start = NOW - timedelta(days=56) + timedelta(seconds=rng.randrange(56 * 86400))
        sa, sb = rng.random(), rng.random()
        for k, user in enumerate(rng.sample(["u1", "u2", "u3", "u4"], rng.randint(1, 3))):
            at = start + timedelta(hours=5 * k)
            if i % 50 == 0:
                at = NOW - timedelta(days=7 * (i // 50))  # exactly on a week's bound
            choice = rng.choice(["A", "A", "B", "B", "tie", "both_bad"])
            docs.append(vote(f"c{i}", user, choice, sa, sb, at.isoformat(timespec="milliseconds")))
    return from_votes(docs)


def test_this_and_last_week_equal_evaluate_over_the_same_windows() -> None:
    docs = synthetic()
    digest = build_digest(iter(docs), now=NOW)  # a one-shot iterator: the comparisons are read once
    for report in (digest.this_week, digest.last_week):
        expected = evaluate(docs, since=report.since, until=report.until, now=NOW, kind="digest")
        assert report.agreement.pairs > 20
        assert report.to_document() == expected.to_document()
    # scripts/evaluate_reranker.py takes days: the same comparisons, so the same figures.
    by_day = evaluate(docs, since="2026-11-16", until="2026-11-23")
    assert by_day.agreement == digest.this_week.agreement
    assert by_day.standings == digest.this_week.standings
    assert by_day.habits == digest.this_week.habits
    for point in digest.history:
        week = evaluate(docs, since=point.start.isoformat(), until=point.end.isoformat())
        assert (point.accuracy, point.kendall_tau) == (
            week.agreement.accuracy,
            week.agreement.kendall_tau,
        )
        assert point.decisive == week.agreement.decisive > 0


def test_now_in_another_timezone_is_the_same_instant() -> None:
    docs = synthetic()
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert build_digest(docs, now=paris, weeks=2) == build_digest(docs, now=NOW, weeks=2)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_digest(docs, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="at least 1"):
        build_digest(docs, now=NOW, weeks=0)


def test_direction() -> None:
    assert direction(Estimate(0.62, 10), Estimate(0.55, 10)) == "up"
    assert direction(Estimate(-0.2, 10), Estimate(0.1, 10)) == "down"
    assert direction(Estimate(0.5, 10), Estimate(0.5, 3)) == "same"
    assert direction(Estimate(0.6121, 10), Estimate(0.6124, 10)) == "down"
    assert direction(Estimate(0.6121, 10), Estimate(0.6124, 10), digits=3) == "same"
    assert direction(Estimate(None, 0), Estimate(0.5, 10)) == "n/a"
    assert direction(Estimate(0.5, 10), Estimate(None, 0)) == "n/a"


def test_digest_from_store_stores_this_week_as_an_evaluation_run(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.upsert_many(COMPARISONS, HAND)
    digest = digest_from_store(store, now=NOW, weeks=3)
    runs = list(store.find(EVALUATION_RESULTS))
    assert len(runs) == 1
    run = runs[0]
    assert run["_id"] == digest.this_week.doc_id
    assert (run["kind"], run["since"], run["until"]) == (
        "digest", "2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00",
    )  # fmt: skip
    assert run["agreement"]["accuracy"]["value"] == 0.75
    assert run["agreement"]["decisive"] == 4
    store.close()
