"""``python -m coderank store copy`` between SQLite and Astra (the Data API test server)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coderank.store import (
    COLLECTIONS,
    COMPARISONS,
    EVALUATION_RESULTS,
    EXECUTIONS,
    FEEDBACK,
    RERANKER_SCORES,
    RESPONSES,
)
from coderank.store.sqlite import SQLiteStore
from harness.data_api_server import DataApiServer
from harness.settings import ROOT, make_env


@pytest.fixture
def data_api() -> Iterator[DataApiServer]:
    server = DataApiServer().start()
    yield server
    server.stop()


def run(
    tmp: Path, server: DataApiServer, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coderank", *args],
        cwd=tmp,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **make_env(tmp),
            "ASTRA_DB_API_ENDPOINT": server.endpoint,
            "ASTRA_DB_APPLICATION_TOKEN": server.token,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def seed(path: Path) -> dict[str, int]:
    store = SQLiteStore(path)
    sizes = {
        COMPARISONS: 50,
        RESPONSES: 150,
        FEEDBACK: 230,
        RERANKER_SCORES: 150,
        EVALUATION_RESULTS: 3,
        EXECUTIONS: 150,
    }
    for name, n in sizes.items():
        store.upsert_many(
            name, [{"_id": f"{name}:{i}", "comparison_id": f"c{i}", "n": i} for i in range(n)]
        )
    store.close()
    return sizes


def test_copy_to_astra_and_back_is_idempotent_and_counts_match(
    tmp_path: Path, data_api: DataApiServer
) -> None:
    sizes = seed(tmp_path / "data" / "coderank.db")
    for _ in range(2):  # the second copy changes nothing
        out = run(tmp_path, data_api, "store", "copy", "--from", "sqlite", "--to", "astra")
        assert out.returncode == 0, out.stderr
        for name, n in sizes.items():
            assert f"{name}: copied {n}; sqlite {n}, astra {n} (match)" in out.stdout
        assert "sqlite -> astra" in out.stderr and "733/733" in out.stderr  # the progress bar
    for name, n in sizes.items():
        assert len(data_api.documents("default_keyspace", name)) == n
    back = run(
        tmp_path, data_api, "store", "copy", "--from", "astra", "--to", "sqlite",
        SQLITE_PATH=str(tmp_path / "back.db"),
    )  # fmt: skip
    assert back.returncode == 0, back.stderr
    copied = SQLiteStore(tmp_path / "back.db")
    assert set(sizes) == set(COLLECTIONS)  # every collection is copied, comparisons included
    assert {name: copied.count(name) for name in COLLECTIONS} == sizes
    assert copied.get(FEEDBACK, "feedback:7") == {
        "_id": "feedback:7",
        "comparison_id": "c7",
        "n": 7,
    }


def test_copy_to_the_same_store_is_refused(tmp_path: Path, data_api: DataApiServer) -> None:
    out = run(tmp_path, data_api, "store", "copy", "--from", "sqlite", "--to", "sqlite")
    assert out.returncode == 2
    assert "nothing to copy" in out.stderr
