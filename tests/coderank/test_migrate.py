"""A store and checkpoints written by the previous version (tests/fixtures/store-v1, made by
commit 6f48d6a with scripted agents: open, closed by the requester, by an admin, by quorum,
closed without votes, failed) get their ``comparisons`` documents, with every count matching."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from coderank.evaluation.report import closed_between, evaluate
from coderank.store import COMPARISONS, FEEDBACK, RERANKER_SCORES, RESPONSES, Window
from coderank.store.sqlite import SQLiteStore
from harness.settings import ROOT, make_env

FIXTURE = ROOT / "tests" / "fixtures" / "store-v1"
EXPECTED = {
    "c-open": ("voting", None, None),
    "c-closed": ("closed", "requester", "A"),
    "c-admin": ("closed", "admin", "both_bad"),
    "c-novotes": ("closed", "requester", None),
    "c-quorum": ("closed", "quorum", "B"),
    "c-failed": ("failed", None, None),
}


def old_store(tmp_path: Path) -> dict[str, str]:
    env = make_env(tmp_path, VOTE_QUORUM="0")
    shutil.copytree(FIXTURE, env["DATA_DIR"])
    return env


def coderank(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coderank", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {
            name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
            for name in (RESPONSES, FEEDBACK, RERANKER_SCORES)
        }


def test_the_fixture_is_a_store_of_the_previous_version() -> None:
    with sqlite3.connect(FIXTURE / "coderank.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert COMPARISONS not in tables and RESPONSES in tables


def test_store_migrate_writes_one_document_per_comparison_and_every_count_matches(
    tmp_path: Path,
) -> None:
    env = old_store(tmp_path)
    db = Path(env["DATA_DIR"]) / "coderank.db"
    before = counts(db)
    done = coderank(env, "store", "migrate")
    assert done.returncode == 0, done.stderr
    assert "comparisons: 6 found, 6 written" in done.stdout and "(match)" in done.stdout
    assert "migrate" in done.stderr  # the progress bar
    store = SQLiteStore(db)
    try:
        stored = {d["comparison_id"]: d for d in store.find(COMPARISONS)}
        found = {cid: (d["status"], d["closed_how"]) for cid, d in stored.items()}
        assert found == {cid: (status, how) for cid, (status, how, _) in EXPECTED.items()}
        for cid, (status, _, majority) in EXPECTED.items():
            if status == "closed":
                assert stored[cid]["majority"] == majority, cid
        # Nothing lost: every vote is in its comparison, every other collection is unchanged.
        for cid, doc in stored.items():
            votes = {v["user"]: v["choice"] for v in store.find(FEEDBACK, {"comparison_id": cid})}
            assert doc["votes"] == votes, cid
        assert stored["c-closed"]["surface"] == {"channel": "C1", "ts": "1.1"}
        assert all(stored[c]["closed_at"] for c in EXPECTED if EXPECTED[c][0] != "voting")
        assert stored["c-failed"]["error"].startswith("only 1 of 3 agents answered")
        # Only the closed comparisons with votes are evaluated: c-closed (A), c-admin (both bad:
        # no preference, so not a pair) and c-quorum (B); c-open's two votes are not counted.
        report = evaluate(closed_between(store, Window()))
        assert report.agreement.pairs == 2 and report.habits.votes == 6
    finally:
        store.close()
    assert counts(db) == before

    again = coderank(env, "store", "migrate")  # idempotent
    assert again.returncode == 0 and again.stdout == done.stdout
    assert counts(db) == before


def test_the_first_command_on_an_old_store_migrates_it_and_the_open_vote_goes_on(
    tmp_path: Path,
) -> None:
    env = old_store(tmp_path)
    voted = coderank(env, "vote", "c-open", "tie", "--user", "erin")
    assert voted.returncode == 0, voted.stderr
    assert "migrated: comparisons: 6 found, 6 written" in voted.stderr
    assert "3 voter(s) so far" in voted.stdout
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    try:
        assert store.get(COMPARISONS, "c-open")["votes"] == {
            "bob": "A",
            "carol": "B",
            "erin": "tie",
        }
    finally:
        store.close()
    closed = coderank(env, "close", "c-open", "--user", "alice")
    assert closed.returncode == 0 and "Outcome: tie." in closed.stdout
    assert "migrat" not in closed.stderr  # once only
