"""Voters against the gold comparisons: where execution decided the pair shown."""

from __future__ import annotations

from coderank.evaluation.formatting import voters_text
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.voters import voter_records
from coderank.models import gold_pick
from tests.comparison_docs import comparison_doc

A, B = "explainer", "optimizer"


def test_gold_needs_one_answer_passing_everything_and_the_other_failing() -> None:
    assert gold_pick(1.0, 0.2) == "A"  # the other ran but failed every check
    assert gold_pick(0.0, 1.0) == "B"  # the other did not parse
    assert gold_pick(1.0, 0.6) == "A"  # the other failed half
    assert gold_pick(1.0, 0.84) is None  # 4 of 5: too close to call gold
    assert gold_pick(0.6, 0.2) is None  # nobody passed everything
    assert gold_pick(1.0, None) is None  # not run


def test_each_voter_is_counted_against_the_gold_answer() -> None:
    docs = [
        comparison_doc("g1", votes={"ann": "A", "bob": "B", "cy": "tie"},
                       execution_scores={A: 1.0, B: 0.1}),
        comparison_doc("g2", votes={"ann": "B", "bob": "B"}, execution_scores={A: 0.0, B: 1.0}),
        comparison_doc("n1", votes={"ann": "A", "bob": "A"}, execution_scores={A: 0.6, B: 0.6}),
        comparison_doc("n2", votes={"bob": "A"}),  # not run
    ]  # fmt: skip
    records = {r.voter: r for r in voter_records(judged_pairs(docs))}
    ann, bob, cy = records["ann"], records["bob"], records["cy"]
    assert (ann.votes, ann.gold_votes, ann.gold_for, ann.gold_against) == (3, 2, 2, 0)
    assert (bob.votes, bob.gold_votes, bob.gold_for, bob.gold_against) == (4, 2, 1, 1)
    assert (cy.gold_votes, cy.gold_for, cy.gold_against) == (1, 0, 0)
    assert ann.gold_agreement.value == 1.0 and bob.gold_agreement.value == 0.5
    assert cy.gold_agreement.value is None
    assert (bob.chose_a, bob.chose_ab) == (2, 4) and bob.position_bias.value == 0.5
    assert [r.voter for r in voter_records(judged_pairs(docs))] == ["bob", "ann", "cy"]
    text = voters_text(list(records.values()))
    assert "bob: 4 votes · gold 1 for, 1 against (agreement 50.0%" in text
    assert voters_text([]) == "No votes on closed comparisons yet."
