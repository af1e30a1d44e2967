"""CodeRank's own pick of the pair shown: execution where it decides, else the reranker, and the
reveal says which signal picked what."""

from __future__ import annotations

from coderank.models import Comparison, Pair


def shown(scores: tuple[float, float], ran: tuple[float, float] | None) -> Comparison:
    pair = Pair("explainer", "optimizer", "top2", probability=1.0, explored=False, swapped=False)
    execution = {} if ran is None else {"explainer": ran[0], "optimizer": ran[1]}
    return Comparison(
        comparison_id="c1",
        problem="p",
        requester="U1",
        source="cli",
        created_at="2026-12-01T00:00:00.000+00:00",
        pair=pair,
        scores={"explainer": scores[0], "optimizer": scores[1]},
        execution_scores=execution,
        checks={agent: "ran" for agent in execution},
    )


def test_execution_decides_where_it_separates_the_answers() -> None:
    agreeing = shown((0.9, 0.1), (1.0, 0.2))
    assert (agreeing.coderank_pick, agreeing.pick_signal) == ("A", "execution")
    assert agreeing.pick_text() == "CodeRank picked A (execution decided; the reranker agreed)."
    overruled = shown((0.1, 0.9), (1.0, 0.2))
    assert overruled.pick_text() == (
        "CodeRank picked A (execution decided; the reranker alone picked B)."
    )
    assert overruled.to_document()["coderank_pick"] == "A"
    assert overruled.to_document()["gold"] == "A"


def test_the_reranker_decides_where_execution_does_not() -> None:
    alike = shown((0.1, 0.9), (0.6, 0.6))
    assert (alike.coderank_pick, alike.pick_signal) == ("B", "reranker")
    assert alike.pick_text() == (
        "CodeRank picked B (by the reranker; execution did not separate them)."
    )
    assert shown((0.1, 0.9), None).pick_text() == "CodeRank picked B."
    assert shown((0.5, 0.5), (0.6, 0.6)).pick_text().startswith("CodeRank picked neither")
