"""Evaluation runs over the stored votes, and scripts/evaluate_reranker.py."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from coderank.evaluation.report import evaluate, evaluate_store, format_report
from coderank.store import EVALUATION_RESULTS, FEEDBACK, RESPONSES
from coderank.store.sqlite import SQLiteStore
from tests.conftest import ROOT, make_env


def synthetic_feedback(n: int, *, seed: int = 1, day: str = "2026-11-18") -> list[dict]:
    """Votes where humans prefer the answer the reranker scored higher 70% of the time."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        a, b = rng.sample(["concise_fixer", "explainer", "optimizer"], 2)
        sa, sb = rng.random(), rng.random()
        better = "A" if sa > sb else "B"
        worse = "B" if better == "A" else "A"
        choice = better if rng.random() < 0.7 else rng.choice([worse, "tie", "both_bad"])
        docs.append({
            "_id": f"c{i}:u", "comparison_id": f"c{i}", "user": "u", "choice": choice,
            "agent_a": a, "agent_b": b, "score_a": sa, "score_b": sb, "pair_probability": 0.6,
            "reranker_model": "m1", "created_at": f"{day}T10:{i % 60:02d}:00+00:00",
        })  # fmt: skip
    return docs


def test_window_and_stored_run(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.upsert_many(FEEDBACK, synthetic_feedback(50, day="2026-11-10"))
    later = [{**d, "_id": "n" + d["_id"], "comparison_id": "n" + d["comparison_id"]}
             for d in synthetic_feedback(30, day="2026-11-18")]  # fmt: skip
    store.upsert_many(FEEDBACK, later)
    report = evaluate_store(store, since="2026-11-17", until="2026-11-24")
    assert report.agreement.pairs <= 30 and report.habits.votes == 30
    stored = list(store.find(EVALUATION_RESULTS))
    assert len(stored) == 1 and stored[0]["since"] == "2026-11-17"
    assert stored[0]["agreement"]["accuracy"]["n"] == report.agreement.accuracy.n
    assert report.models == {"m1": report.agreement.pairs}


def test_the_script_prints_the_same_figures_as_the_library(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    docs = synthetic_feedback(120)
    store.upsert_many(FEEDBACK, docs)
    expected = format_report(evaluate(docs, since="2026-11-01"))
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_reranker.py"), "--since", "2026-11-01"],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
    assert "pairs evaluated" in out.stdout and "model used" in out.stdout and "m1" in out.stdout
    assert "warning:" in out.stdout  # 120 pairs are too few to tell 60% from chance
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_reranker.py"), "--since", "last week"],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "expected YYYY-MM-DD" in bad.stderr
    assert store.count(RESPONSES) == 0
