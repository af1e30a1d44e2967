"""What only the embedded store does, on a real SQLite file (the shared behaviour is in
test_contract.py)."""

from __future__ import annotations

import gc
import sqlite3
import threading
from pathlib import Path

import pytest

from coderank.errors import StoreError
from coderank.store import FEEDBACK, doc_id
from coderank.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path):
    s = SQLiteStore(tmp_path / "store.db")
    yield s
    s.close()


def vote(cid: str, user: str, choice: str) -> dict:
    return {"_id": doc_id(cid, user), "comparison_id": cid, "user": user, "choice": choice}


def test_wal_and_indexes_on_queried_fields(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {
        "feedback_comparison_id",
        "responses_comparison_id",
        "feedback_created_at",
        "evaluation_results_kind",
    } <= indexes
    assert "reranker_scores_model_id" not in indexes  # never queried, so not indexed
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


def test_a_filter_field_is_never_spliced_into_sql(store: SQLiteStore) -> None:
    store.upsert(FEEDBACK, vote("c1", "a", "A"))
    with pytest.raises(StoreError, match="cannot filter"):
        store.count(FEEDBACK, {"x') OR 1=1 --": 1})
    assert store.count(FEEDBACK) == 1


def open_files(path: Path) -> int:
    """File descriptors of this process open on ``path``."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if str(fd.resolve()) == str(path.resolve()))


def test_short_lived_threads_do_not_leak_connections(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    for i in range(40):  # as LangGraph runs each comparison's nodes on new threads
        t = threading.Thread(target=store.upsert, args=(FEEDBACK, vote(f"c{i}", "a", "A")))
        t.start()
        t.join()
    gc.collect()
    assert store.count(FEEDBACK) == 40
    assert open_files(tmp_path / "store.db") <= 2  # this thread's connection, not 41
    store.close()
    assert open_files(tmp_path / "store.db") == 0


def test_a_read_that_fails_in_sqlite_is_a_store_error(store: SQLiteStore) -> None:
    store.upsert(FEEDBACK, vote("c1", "a", "A"))
    other = sqlite3.connect(store.path)  # another process breaks the file under the store
    other.execute("DROP TABLE feedback")
    other.commit()
    other.close()
    reads = [
        ("get", "cannot read feedback", lambda: store.get(FEEDBACK, doc_id("c1", "a"))),
        (
            "find",
            "cannot read feedback",
            lambda: list(store.find(FEEDBACK, {"comparison_id": "c1"})),
        ),
        ("count", "cannot count feedback", lambda: store.count(FEEDBACK)),
    ]
    for name, doing, read in reads:
        with pytest.raises(StoreError) as got:
            read()
        assert str(got.value) == f"{doing}: no such table: feedback", name
        assert isinstance(got.value.__cause__, sqlite3.OperationalError), name
