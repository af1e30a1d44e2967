"""``scripts/export_feedback.py``: one line per closed comparison decided A or B by its voters'
majority, read back by the fine-tune's reader; ties and both-bad left out and counted, open
comparisons left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from coderank.finetune.dataset import read_pairs
from coderank.finetune.export import export_pairs
from coderank.models import CLOSED, VOTING
from coderank.store import COMPARISONS, RESPONSES, doc_id
from coderank.store.sqlite import SQLiteStore
from harness.comparison_docs import comparison_doc
from harness.settings import make_env

ROOT = Path(__file__).resolve().parents[3]


def seed(
    store: SQLiteStore,
    cid: str,
    votes: dict[str, str],
    *,
    day: str = "2026-11-20",
    status: str = CLOSED,
) -> None:
    """A comparison of explainer (shown as A) against optimizer (B) with ``votes``, closed on
    ``day`` (``status="voting"``: still open), and its two answers."""
    for agent in ("explainer", "optimizer"):
        store.upsert(
            RESPONSES,
            {
                "_id": doc_id(cid, agent),
                "comparison_id": cid,
                "agent": agent,
                "problem": f"problem {cid}",
                "text": f"{agent}'s answer to {cid}",
            },
        )
    store.upsert(
        COMPARISONS,
        comparison_doc(
            cid,
            votes=votes,
            score_a=0.1,
            score_b=0.2,
            closed_at=f"{day}T10:00:00.000+00:00",
            status=status,
            problem=f"problem {cid}",
        ),
    )


def test_the_majority_decides_and_ties_and_both_bad_are_counted(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    seed(store, "c1", {"u1": "A", "u2": "A", "u3": "B"})  # A: explainer chosen
    seed(store, "c2", {"u1": "B"})  # B: optimizer chosen
    seed(store, "c3", {"u1": "A", "u2": "B"})  # a draw is a tie
    seed(store, "c4", {"u1": "both_bad", "u2": "both_bad", "u3": "A"})
    seed(store, "c5", {"u1": "tie"})
    seed(store, "c6", {"u1": "A", "u2": "A"}, status=VOTING)  # decisive so far, but still open
    out = tmp_path / "pairs.jsonl"
    count = export_pairs(store, out)
    assert count.exported == 2
    assert dict(count.skipped) == {"tie": 2, "both-bad": 1}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0] == {
        "comparison_id": "c1",
        "query": "problem c1",
        "chosen": "explainer's answer to c1",
        "rejected": "optimizer's answer to c1",
        "chosen_agent": "explainer",
        "rejected_agent": "optimizer",
        "votes": {"A": 2, "B": 1, "tie": 0, "both_bad": 0},
        "created_at": "2026-11-20T10:00:00.000+00:00",  # when the comparison closed
    }
    assert (lines[1]["chosen_agent"], lines[1]["rejected_agent"]) == ("optimizer", "explainer")
    assert [p.comparison_id for p in read_pairs(out)] == ["c1", "c2"]  # not the open c6


def test_the_script_exports_since_a_day_and_prints_the_counts(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    seed(store, "old", {"u1": "A"}, day="2026-10-01")
    seed(store, "new", {"u1": "B"}, day="2026-11-20")
    seed(store, "draw", {"u1": "tie"}, day="2026-11-21")
    seed(store, "open", {"u1": "A"}, day="2026-11-22", status=VOTING)  # not exported, not counted
    store.close()
    out = tmp_path / "out" / "pairs.jsonl"
    done = subprocess.run(
        [sys.executable, "scripts/export_feedback.py", "--out", str(out), "--since", "2026-11-01"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"1 pairs exported; left out: 1 tie -> {out}"
    assert [p.comparison_id for p in read_pairs(out)] == ["new"]


def test_a_bad_date_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    done = subprocess.run(
        [sys.executable, "scripts/export_feedback.py", "--out", str(out), "--since", "last week"],
        cwd=ROOT,
        env={**os.environ, **make_env(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "'last week' is not a date: expected YYYY-MM-DD" in done.stderr
    assert not out.exists()
