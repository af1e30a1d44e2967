"""The three signals side by side: the reranker, execution alone and both combined, each against
the team's majority on closed comparisons."""

from __future__ import annotations

from datetime import UTC, datetime

from coderank.evaluation.formatting import format_report
from coderank.evaluation.report import evaluate
from harness.comparison_docs import comparison_doc

A, B = "explainer", "optimizer"  # shown as A and B; the team prefers A every time


def test_each_signal_is_scored_on_the_pairs_it_decides() -> None:
    docs = [
        # reranker right, execution right
        comparison_doc("c1", votes={"u": "A"}, score_a=0.9, score_b=0.1,
                       execution_scores={A: 1.0, B: 0.1}),
        # reranker right, execution wrong
        comparison_doc("c2", votes={"u": "A"}, score_a=0.9, score_b=0.1,
                       execution_scores={A: 0.1, B: 1.0}),
        # reranker wrong, execution undecided (both ran equally): the reranker counts
        comparison_doc("c3", votes={"u": "A"}, score_a=0.1, score_b=0.9,
                       execution_scores={A: 0.6, B: 0.6}),
        # reranker wrong, execution right
        comparison_doc("c4", votes={"u": "A"}, score_a=0.1, score_b=0.9,
                       execution_scores={A: 1.0, B: 0.0}),
        # a tie is not decisive: left out of every accuracy
        comparison_doc("c5", votes={"u": "tie"}, execution_scores={A: 1.0, B: 0.0}),
    ]  # fmt: skip
    report = evaluate(docs)
    reranker, execution, combined = (
        report.signals[k] for k in ("reranker", "execution", "combined")
    )
    assert (reranker.value, reranker.n) == (0.5, 4)
    assert (execution.value, execution.n) == (2 / 3, 3)
    assert (combined.value, combined.n) == (0.5, 4)  # c1 right, c2 wrong, c3 wrong, c4 right
    text = format_report(report)
    assert "accuracy, execution alone" in text and "accuracy, combined" in text


def test_without_execution_there_is_no_execution_figure() -> None:
    report = evaluate([comparison_doc("c1", votes={"u": "A"})])
    assert report.signals == {}
    assert "execution alone" not in format_report(report)


def test_stats_and_the_digest_show_the_signals_side_by_side() -> None:
    from bot.blocks.digest import digest_message
    from bot.blocks.stats import stats_message
    from coderank.evaluation.weekly import build_digest

    docs = [
        comparison_doc("c1", votes={"u": "A"}, score_a=0.9, score_b=0.1,
                       execution_scores={A: 0.1, B: 1.0}, closed_at="2026-11-24T10:00:00+00:00"),
    ]  # fmt: skip
    _, blocks = stats_message(evaluate(docs), {})
    line = "*Against the team, by signal:* reranker 100.0% [20.7, 100.0] (n=1) · "
    assert line + "execution alone 0.0% [0.0, 79.3] (n=1) · combined 0.0%" in str(blocks)
    _, blocks = digest_message(build_digest(docs, now=datetime(2026, 11, 30, 9, tzinfo=UTC)))
    assert "execution alone 0.0%" in str(blocks)
