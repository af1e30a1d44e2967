"""What PAIR_POLICY=active reads from the store: closed comparisons, each once, new ones only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from coderank.evaluation.report import excluded_voters
from coderank.graph.active import PairRecord, agent_pair
from coderank.graph.known_pairs import KnownPairs
from coderank.models import CLOSED, VOTING
from coderank.store import COMPARISONS, Document
from coderank.store.sqlite import SQLiteStore
from harness.comparison_docs import comparison_doc, team_votes


class CountingStore(SQLiteStore):
    """A real SQLite store that counts the comparison documents it hands out."""

    read = 0

    def find(
        self, collection: str, filter: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> Iterator[Document]:
        for doc in super().find(collection, filter, limit=limit):
            self.read += 1
            yield doc


def comparison(cid: str, closed_at: str, choice: str = "A", status: str = CLOSED) -> dict:
    return {
        "_id": cid, "comparison_id": cid, "status": status, "closed_at": closed_at,
        "pair": {"a": "explainer", "b": "optimizer", "probability": 0.8},
        "scores": {"explainer": 0.9, "optimizer": 0.2}, "votes": {"u": choice},
    }  # fmt: skip


def test_later_reads_count_new_closed_comparisons_once_and_read_only_recent_ones(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "s.db")
    key = agent_pair("explainer", "optimizer")
    old = [comparison(f"old{i}", f"2026-03-01T0{i}:00:00.000+00:00") for i in range(5)]
    store.upsert_many(COMPARISONS, [*old, comparison("open", "", status=VOTING)])
    known = KnownPairs(store)
    assert known.read() == {key: PairRecord(decisive=5, agreed=5)}
    assert store.read == 5

    store.read = 0
    store.upsert(COMPARISONS, comparison("new", "2026-03-02T09:00:00.000+00:00", choice="B"))
    assert known.read() == {key: PairRecord(decisive=6, agreed=5)}
    assert store.read == 2  # the new one and the latest seen (the overlap), not all again

    # One closed a little earlier by a replica whose clock is behind is still seen, once.
    store.read = 0
    store.upsert(COMPARISONS, comparison("skewed", "2026-03-02T08:55:00.000+00:00"))
    assert known.read() == known.read() == {key: PairRecord(decisive=7, agreed=6)}
    store.close()


def test_flagged_voters_votes_count_for_the_active_policy_only_under_keep(tmp_path: Path) -> None:
    """Under FLAGGED_VOTERS=exclude the two voters the voter tests flag decide no comparison:
    where the honest voters split evenly, the pair is a tie, not a win the reranker agreed with."""
    store = SQLiteStore(tmp_path / "s.db")
    docs = [comparison_doc(f"c{i}", votes=v) for i, v in enumerate(team_votes())]
    split = {f"honest{v}": "A" if v % 2 else "B" for v in range(20)}
    split |= {"always_a": "A", "random": "A"}  # these two make it A under keep
    docs += [comparison_doc(f"split{i}", votes=split) for i in range(4)]
    store.upsert_many(COMPARISONS, docs)
    assert {"always_a", "random"} <= excluded_voters(store, "exclude")
    key = agent_pair("explainer", "optimizer")

    kept = KnownPairs(store).read()[key]
    left_out = KnownPairs(store, flagged_voters="exclude").read()[key]
    assert kept.decisive - left_out.decisive == 4  # the four split comparisons, and only them
    assert kept.agreed - left_out.agreed == 4  # A was the reranker's pick (0.6 against 0.4)

    # A comparison closed later is read by both (``keep`` counts it) and, under ``exclude``,
    # counted with the same rule: its flagged voters decide nothing.
    keeping, excluding = KnownPairs(store), KnownPairs(store, flagged_voters="exclude")
    assert (keeping.read()[key], excluding.read()[key]) == (kept, left_out)
    later = comparison_doc("later", votes=split, closed_at="2026-11-21T10:00:00+00:00")
    store.upsert(COMPARISONS, later)
    assert keeping.read()[key] == PairRecord(kept.decisive + 1, kept.agreed + 1)
    assert excluding.read()[key] == left_out
    store.close()
