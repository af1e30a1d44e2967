"""One contract for every ``Store``: the embedded SQLite store and the Astra store (over the Data
API test server; against a real Astra DB in test_astra_live.py when one is configured)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coderank.errors import StoreError
from coderank.store import COLLECTIONS, FEEDBACK, RESPONSES, Store, Window, doc_id
from coderank.store.astra import AstraStore
from coderank.store.sqlite import SQLiteStore
from harness.data_api_server import DataApiServer

OpenStore = Callable[[], Store]


@pytest.fixture
def data_api() -> Iterator[DataApiServer]:
    server = DataApiServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "astra"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens a (new) store of one kind over the same data, each time it is called."""
    opened: list[Store] = []
    if request.param == "sqlite":

        def make() -> Store:
            opened.append(SQLiteStore(tmp_path / "store.db"))
            return opened[-1]
    else:
        server = request.getfixturevalue("data_api")

        def make() -> Store:
            opened.append(AstraStore(server.endpoint, server.token, retry_budget_s=5))
            return opened[-1]

    yield make
    for store in opened:
        store.close()


def vote(cid: str, user: str, choice: str, **extra: object) -> dict:
    return {"_id": doc_id(cid, user), "comparison_id": cid, "user": user, "choice": choice, **extra}


def test_a_retried_write_never_duplicates(open_store: OpenStore) -> None:
    store = open_store()
    for _ in range(3):
        store.upsert(FEEDBACK, vote("c1", "alice", "A"))
    store.upsert_many(FEEDBACK, [vote("c1", "alice", "A"), vote("c1", "bob", "B")])
    store.upsert_many(FEEDBACK, [vote("c1", "alice", "A"), vote("c1", "bob", "B")])
    assert store.count(FEEDBACK) == 2


def test_an_upsert_replaces_the_whole_document(open_store: OpenStore) -> None:
    store = open_store()
    store.upsert(FEEDBACK, vote("c1", "alice", "A", note="first"))
    store.upsert(FEEDBACK, vote("c1", "alice", "B"))
    assert store.get(FEEDBACK, "c1:alice") == vote("c1", "alice", "B")
    store.upsert_many(FEEDBACK, [vote("c1", "alice", "tie", note="again")])
    assert store.get(FEEDBACK, "c1:alice") == vote("c1", "alice", "tie", note="again")
    assert store.get(FEEDBACK, "c1:nobody") is None


def test_find_and_count_by_indexed_fields(open_store: OpenStore) -> None:
    store = open_store()
    store.upsert_many(
        FEEDBACK,
        [vote("c1", "a", "A"), vote("c1", "b", "B"), vote("c2", "a", "tie")],
    )
    assert store.count(FEEDBACK, {"comparison_id": "c1"}) == 2
    assert {d["user"] for d in store.find(FEEDBACK, {"comparison_id": "c1"})} == {"a", "b"}
    assert [d["choice"] for d in store.find(FEEDBACK, {"comparison_id": "c2", "_id": "c2:a"})] == [
        "tie"
    ]
    assert [d["_id"] for d in store.find(FEEDBACK, {"_id": "c1:b"})] == ["c1:b"]
    assert store.count(FEEDBACK, {"comparison_id": "none"}) == 0


def test_find_streams_many_pages_and_honours_limit(open_store: OpenStore) -> None:
    store = open_store()
    docs = [{"_id": f"c{i:04d}:a", "comparison_id": f"c{i % 7}", "agent": "a"} for i in range(250)]
    store.upsert_many(RESPONSES, docs)
    assert sorted(d["_id"] for d in store.find(RESPONSES)) == [d["_id"] for d in docs]
    assert len(list(store.find(RESPONSES, limit=45))) == 45
    assert len(list(store.find(RESPONSES, {"comparison_id": "c3"}))) == 36


def test_counts_past_a_thousand_are_exact(open_store: OpenStore) -> None:
    store = open_store()
    store.upsert_many(FEEDBACK, [vote("big", f"u{i}", "A") for i in range(1203)])
    assert store.count(FEEDBACK) == 1203
    assert store.count(FEEDBACK, {"comparison_id": "big"}) == 1203


def test_documents_survive_reopening(open_store: OpenStore) -> None:
    open_store().upsert(FEEDBACK, vote("c1", "alice", "A"))
    again = open_store()
    assert again.get(FEEDBACK, "c1:alice") == vote("c1", "alice", "A")
    assert all(again.count(c) == (1 if c == FEEDBACK else 0) for c in COLLECTIONS)


def test_bad_input_is_refused_and_changes_nothing(open_store: OpenStore) -> None:
    store = open_store()
    with pytest.raises(StoreError, match="unknown collection"):
        store.upsert("votes", vote("c1", "a", "A"))
    with pytest.raises(StoreError, match="no _id"):
        store.upsert_many(FEEDBACK, [vote("c1", "a", "A"), {"choice": "B"}])
    with pytest.raises(StoreError):
        store.count(FEEDBACK, {"choice": "A"})  # not an indexed field, in either store
    assert all(store.count(c) == 0 for c in COLLECTIONS)


def test_a_time_window_filters_on_the_server(open_store: OpenStore) -> None:
    store = open_store()
    store.upsert_many(
        FEEDBACK,
        [
            {**vote(f"c{day}", "a", "A"), "created_at": f"2026-11-{day:02d}T10:00:00+00:00"}
            for day in range(10, 20)
        ],
    )
    week = Window("2026-11-12", "2026-11-15")
    found = sorted(d["comparison_id"] for d in store.find(FEEDBACK, week.filter("created_at")))
    assert found == ["c12", "c13", "c14"]
    # The store and Window.contains agree on every boundary.
    assert found == sorted(
        f"c{day}" for day in range(10, 20) if week.contains(f"2026-11-{day:02d}T10:00:00+00:00")
    )
    assert store.count(FEEDBACK, Window("2026-11-18", None).filter("created_at")) == 2
    assert store.count(FEEDBACK, Window(None, "2026-11-11").filter("created_at")) == 1
    assert Window().filter("created_at") == {}


def test_a_store_answers_a_ping(open_store: OpenStore) -> None:
    open_store().ping(timeout_s=2)
