"""The pure helpers: domain objects in, rows, lines and charts out (no Streamlit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from coderank.evaluation.formatting import report_rows
from coderank.evaluation.report import evaluate
from coderank.models import Answer, Comparison
from coderank.overview import agreement_by_period
from dashboard import figures
from dashboard.tables import (
    answer_parts,
    comparison_rows,
    figure_rows,
    finetune_rows,
    period_points,
    plain,
    reveal_lines,
    standing_points,
)
from harness.comparison_docs import comparison_doc


def _closed(cid: str, votes: dict[str, str], day: str) -> dict[str, object]:
    return comparison_doc(cid, votes=votes, closed_at=f"{day}T10:00:00+00:00")


def test_open_comparisons_show_how_many_voted_and_nothing_of_the_outcome() -> None:
    open_ = Comparison.from_document(comparison_doc("c1", votes={"u": "A"}, status="voting"))
    closed = Comparison.from_document(comparison_doc("c2", votes={"u": "B", "v": "B"}))
    rows = comparison_rows([open_, closed])
    assert (rows[0]["voters"], rows[0]["outcome"], rows[0]["reranker agreed"]) == (1, "", "")
    assert (rows[1]["voters"], rows[1]["outcome"], rows[1]["reranker agreed"]) == (2, "B", "no")


def test_the_reveal_says_what_the_command_line_says() -> None:
    c = Comparison.from_document(comparison_doc("c1", votes={"u": "A"}))
    assert reveal_lines(c) == [
        "Answer A was written by Explainer (reranker score 0.6000)",
        "Answer B was written by Optimizer (reranker score 0.4000)",
        "The reranker (m1) preferred A.",
        "Outcome: A. The reranker agreed.",
        "CodeRank picked A.",
    ]
    ran = replace(
        c,
        checks={"explainer": "5/6 checks passed", "optimizer": "runs; no checks"},
        execution_scores={"explainer": 0.87, "optimizer": 0.6},
    )
    assert reveal_lines(ran)[-2:] == [
        "Running the code: A: 5/6 checks passed · B: runs; no checks",
        "CodeRank picked A (execution decided; the reranker agreed).",
    ]


def test_an_answer_is_split_into_its_code_and_the_rest() -> None:
    text = "```python\ndef f(n):\n    return n\n```\nIt returns n."
    assert answer_parts(Answer("explainer", text, "def f(n):\n    return n")) == (
        "def f(n):\n    return n",
        "It returns n.",
    )
    assert answer_parts(Answer("explainer", "No code here.", "")) == ("", "No code here.")


def test_markdown_is_shown_as_itself() -> None:
    assert plain("agent concise_fixer: $5 [x](y)") == "agent concise\\_fixer: \\$5 \\[x\\](y)"


def test_the_figures_table_is_the_script_s_lines() -> None:
    report = evaluate([_closed("c1", {"u": "A"}, "2026-11-02")])
    rows = figure_rows(report_rows(report))
    assert rows[3] == {"figure": "accuracy", "value": "100.0% [20.7, 100.0] (n=1)"}


def test_periods_and_their_chart() -> None:
    docs = [
        _closed("c1", {"u": "A"}, "2026-11-02"),
        _closed("c2", {"u": "B"}, "2026-11-03"),
        _closed("c3", {"u": "A"}, "2026-11-12"),
    ]
    periods = agreement_by_period(docs, since=date(2026, 11, 1), until=date(2026, 11, 15))
    assert [(p.since.day, p.until.day, p.agreement.decisive) for p in periods] == [
        (1, 8, 2),
        (8, 15, 1),
    ]
    points = period_points(periods)
    accuracy = [p for p in points if p["figure"] == "accuracy"]
    assert [(p["period"], p["value"], p["n"]) for p in accuracy] == [
        ("2026-11-01", 50.0, 2),
        ("2026-11-08", 100.0, 1),
    ]
    spec = figures.over_time(points).to_dict()
    assert spec["facet"]["row"]["field"] == "figure"
    assert spec["datasets"][spec["data"]["name"]][0]["chance"] == 50.0  # the data rides along
    assert len(spec["datasets"][spec["data"]["name"]]) == len(points)


def test_the_leaderboard_chart_has_each_agent_with_its_interval() -> None:
    report = evaluate([_closed(f"c{i}", {"u": "A"}, "2026-11-02") for i in range(5)])
    points = standing_points(report.standings)
    assert {p["agent"] for p in points} == {"Explainer", "Optimizer"}
    assert all(p["low"] <= p["strength"] <= p["high"] for p in points)
    spec = figures.leaderboard(points).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "point"]


def test_finetune_rows() -> None:
    run = {
        "created_at": "2026-11-07T09:00:00+00:00",
        "by": "U0ADMIN",
        "exported": 40,
        "metrics": {
            "model": "models/reranker-ft/slack-1",
            "pairs": {"total": 40, "train": 32, "held_out": 8},
            "before": {"accuracy": 0.5},
            "after": {"accuracy": 0.625},
        },
        "promoted": True,
        "reason": "promoted: better",
    }
    assert finetune_rows([run]) == [
        {
            "when": "2026-11-07 09:00",
            "by": "U0ADMIN",
            "pairs": 40,
            "train / held out": "32 / 8",
            "accuracy before": "50.0%",
            "accuracy after": "62.5%",
            "promoted": "yes",
            "model": "slack-1",
            "reason": "promoted: better",
        }
    ]
