"""What PAIR_POLICY=active reads from the store: closed comparisons, each once, new ones only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from coderank.graph.active import PairRecord, agent_pair
from coderank.graph.known_pairs import KnownPairs
from coderank.models import CLOSED, VOTING
from coderank.store import COMPARISONS, Document
from coderank.store.sqlite import SQLiteStore


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
