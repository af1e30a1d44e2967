"""The embedded store's behaviour on a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from coderank.errors import StoreError
from coderank.store import COLLECTIONS, FEEDBACK, RESPONSES, doc_id
from coderank.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path):
    s = SQLiteStore(tmp_path / "store.db")
    yield s
    s.close()


def vote(cid: str, user: str, choice: str) -> dict:
    return {"_id": doc_id(cid, user), "comparison_id": cid, "user": user, "choice": choice}


def test_a_retried_write_does_not_duplicate(store: SQLiteStore) -> None:
    for _ in range(3):
        store.upsert(FEEDBACK, vote("c1", "alice", "A"))
    assert store.count(FEEDBACK) == 1


def test_a_second_vote_by_the_same_user_replaces_the_first(store: SQLiteStore) -> None:
    store.upsert(FEEDBACK, vote("c1", "alice", "A"))
    store.upsert(FEEDBACK, vote("c1", "bob", "A"))
    store.upsert(FEEDBACK, vote("c1", "alice", "B"))
    assert store.get(FEEDBACK, "c1:alice")["choice"] == "B"
    # Replacing keeps the first write's place in the stream.
    assert [d["user"] for d in store.find(FEEDBACK)] == ["alice", "bob"]


def test_find_and_count_filter_on_fields(store: SQLiteStore) -> None:
    store.upsert_many(
        FEEDBACK,
        [vote("c1", "a", "A"), vote("c1", "b", "B"), vote("c2", "a", "tie")],
    )
    assert store.count(FEEDBACK, {"comparison_id": "c1"}) == 2
    assert {d["user"] for d in store.find(FEEDBACK, {"comparison_id": "c1"})} == {"a", "b"}
    assert [d["choice"] for d in store.find(FEEDBACK, {"comparison_id": "c2", "user": "a"})] == [
        "tie"
    ]
    assert store.count(FEEDBACK, {"comparison_id": "nope"}) == 0
    assert store.get(FEEDBACK, "missing") is None


def test_find_streams_past_a_page_and_honours_limit(store: SQLiteStore) -> None:
    store.upsert_many(RESPONSES, [{"_id": f"r{i:05d}", "n": i} for i in range(2500)])
    assert [d["n"] for d in store.find(RESPONSES)] == list(range(2500))
    assert [d["n"] for d in store.find(RESPONSES, limit=1200)] == list(range(1200))


def test_documents_survive_reopening(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "s.db")
    first.upsert(FEEDBACK, vote("c1", "alice", "A"))
    first.close()
    second = SQLiteStore(tmp_path / "s.db")
    assert second.get(FEEDBACK, "c1:alice") == vote("c1", "alice", "A")
    second.close()


def test_wal_and_indexes_on_queried_fields(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {
        "feedback_comparison_id",
        "responses_comparison_id",
        "reranker_scores_model_id",
    } <= indexes
    plan = " ".join(
        str(r)
        for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT doc FROM feedback "
            "WHERE json_extract(doc, '$.comparison_id') = 'x'"
        )
    )
    assert "feedback_comparison_id" in plan


def test_concurrent_writers_lose_nothing(store: SQLiteStore) -> None:
    def write(worker: int) -> None:
        for i in range(50):
            store.upsert(FEEDBACK, vote(f"c{worker}", f"u{i}", "A"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count(FEEDBACK) == 400


def test_bad_input_is_refused_and_changes_nothing(store: SQLiteStore) -> None:
    with pytest.raises(StoreError, match="unknown collection"):
        store.upsert("votes", vote("c1", "a", "A"))
    with pytest.raises(StoreError, match="no _id"):
        store.upsert_many(FEEDBACK, [vote("c1", "a", "A"), {"choice": "B"}])
    with pytest.raises(StoreError, match="cannot filter"):
        store.count(FEEDBACK, {"x') OR 1=1 --": 1})
    assert all(store.count(c) == 0 for c in COLLECTIONS)
