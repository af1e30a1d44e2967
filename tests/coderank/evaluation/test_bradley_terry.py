"""The Bradley-Terry leaderboard follows the evidence even when every vote went to one position
(issue 16's defect: it printed 1000 [1000, 1000] for every agent)."""

from __future__ import annotations

from coderank.evaluation.formatting import format_report
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.preferences import INIT_RATING, standings
from coderank.evaluation.report import evaluate
from harness.comparison_docs import comparison_doc

# Six comparisons, every one voted A; the agent shown as A is the winner.
SHOWN = [("y", "x"), ("y", "x"), ("z", "x"), ("z", "y"), ("x", "z"), ("y", "z")]


def docs() -> list[dict]:
    return [
        comparison_doc(f"c{i}", votes={"u": "A"}, agent_a=a, agent_b=b)
        for i, (a, b) in enumerate(SHOWN)
    ]


def test_strengths_follow_the_win_rates_when_all_votes_went_to_a() -> None:
    table = {s.agent: s for s in standings(judged_pairs(docs()))}
    assert [round(table[a].win_rate.value or 0, 2) for a in "xyz"] == [0.25, 0.75, 0.5]
    x, y, z = (table[a].strength for a in "xyz")
    assert y.value is not None and z.value is not None and x.value is not None
    assert y.value > z.value > x.value  # not flat
    assert abs((x.value + y.value + z.value) / 3 - INIT_RATING) < 1  # centred on 1000
    assert y.low is not None and y.high is not None and y.low < y.high  # bootstrap not collapsed


def test_swapping_which_answer_was_shown_as_a_changes_nothing() -> None:
    swapped = [
        comparison_doc(f"c{i}", votes={"u": "B"}, agent_a=b, agent_b=a)
        for i, (a, b) in enumerate(SHOWN)
    ]
    before = {s.agent: s.strength.value for s in standings(judged_pairs(docs()))}
    after = {s.agent: s.strength.value for s in standings(judged_pairs(swapped))}
    assert before.keys() == after.keys()
    for agent, value in before.items():
        assert abs(value - (after[agent] or 0)) < 1e-3
    text = format_report(evaluate(docs()))
    assert "agent y: Bradley-Terry" in text and "1000 [1000, 1000]" not in text
