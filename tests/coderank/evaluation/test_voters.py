"""Voters against the gold comparisons: where execution decided the pair shown."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from scipy import stats

from coderank.evaluation.formatting import voters_text
from coderank.evaluation.pairs import JudgedPair, judged_pairs
from coderank.evaluation.voters import anomalies, check_voters, vote_p_value, voter_records
from coderank.models import gold_pick
from harness.comparison_docs import comparison_doc, team_votes

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


def simulated_votes() -> list[JudgedPair]:
    """The pairs of :func:`team_votes`' comparisons."""
    return judged_pairs(comparison_doc(f"c{i}", votes=v) for i, v in enumerate(team_votes()))


def test_the_anomalous_voter_test_flags_an_always_a_and_a_random_voter() -> None:
    found = anomalies(simulated_votes())
    flagged = {voter for voter, a in found.items() if a.flagged}
    assert {"always_a", "random"} <= flagged
    assert len(flagged - {"always_a", "random"}) <= 1  # honest voters flagged by chance
    assert found["honest0"].votes_tested == 60
    assert anomalies(simulated_votes(), seed=0) == found  # reproducible


def test_an_honest_voters_p_values_are_uniform() -> None:
    rng = random.Random(0)
    others = ["A"] * 8 + ["B"] * 2
    draws = []
    for _ in range(4000):
        choice = rng.choices(["A", "B", "tie", "both_bad"], [8.5, 2.5, 0.5, 0.5])[0]
        draws.append(vote_p_value(choice, others, rng.random()))
    assert abs(sum(draws) / len(draws) - 0.5) < 0.03
    assert abs(sum(d < 0.1 for d in draws) / len(draws) - 0.1) < 0.03


def test_admins_see_the_flagged_voters_first() -> None:
    pairs = simulated_votes()
    text = voters_text(voter_records(pairs), anomalies(pairs))
    first_two = {line.split(":")[0] for line in text.splitlines()[:2]}
    assert first_two == {"always_a", "random"}
    assert text.splitlines()[0].count("*flagged*") == 1
    assert "votes p=" in text and "position p=" in text


def test_flagged_voters_can_be_left_out_of_every_figure(tmp_path: Path) -> None:
    from coderank.evaluation.report import closed_between, evaluate, excluded_voters
    from coderank.store import COMPARISONS, Window, open_store
    from harness.settings import make_settings

    store = open_store(make_settings(tmp_path))
    try:
        docs = []
        for pair in simulated_votes():
            doc = comparison_doc(pair.comparison_id, votes=pair.votes)
            docs.append(doc)
        store.upsert_many(COMPARISONS, docs)
        assert excluded_voters(store, "keep") == frozenset()
        left_out = excluded_voters(store, "exclude")
        assert {"always_a", "random"} <= left_out and len(left_out) <= 3
        kept = list(closed_between(store, Window(), without=left_out))
        assert all(not (set(d["votes"]) & left_out) for d in kept)
        before = evaluate(closed_between(store, Window()))
        after = evaluate(kept)
        assert before.habits.votes - after.habits.votes == 60 * len(left_out)
    finally:
        store.close()


def fisher_one_vote_at_a_time(pairs: list[JudgedPair], seed: int = 0) -> dict[str, float]:
    """Fisher's combination of :func:`vote_p_value`, one vote at a time in the documented order
    (comparisons by id, voters by name, one uniform draw per vote with another voter)."""
    rng = np.random.default_rng(seed)
    logs: dict[str, list[float]] = {}
    for pair in sorted(pairs, key=lambda p: p.comparison_id):
        if len(pair.votes) < 2:
            continue
        for voter in sorted(pair.votes):
            others = [c for v, c in pair.votes.items() if v != voter]
            p = vote_p_value(pair.votes[voter], others, float(rng.random()))
            logs.setdefault(voter, []).append(math.log(max(p, 1e-300)))
    return {v: float(stats.chi2.sf(-2 * sum(x), 2 * len(x))) for v, x in logs.items()}


def test_every_vote_at_once_gives_the_one_vote_at_a_time_p_values() -> None:
    pairs = simulated_votes()
    pairs.append(judged_pairs([comparison_doc("alone", votes={"cy": "A"})])[0])  # not tested
    found = anomalies(pairs)
    expected = fisher_one_vote_at_a_time(pairs)
    assert set(expected) == set(found) - {"cy"}
    for voter, p in expected.items():
        assert math.isclose(found[voter].p_value or 0, p, rel_tol=1e-9, abs_tol=1e-300), voter
    assert found["cy"].p_value is None and found["cy"].votes_tested == 0


def test_a_record_counts_agreement_with_the_majority_and_with_the_reranker() -> None:
    docs = [
        comparison_doc("r1", votes={"ann": "A", "bob": "A", "cy": "B"}, score_a=0.9, score_b=0.1),
        comparison_doc("r2", votes={"ann": "B", "bob": "A"}, score_a=0.9, score_b=0.1),  # draw
        comparison_doc("r3", votes={"ann": "tie", "bob": "tie"}, score_a=0.2, score_b=0.7),
        comparison_doc("r4", votes={"ann": "B"}, score_a=0.5, score_b=0.5),  # alone; equal scores
    ]
    checks = check_voters(judged_pairs(docs))
    ann = checks.record("ann")
    assert ann is not None
    assert (ann.votes, ann.with_others, ann.with_majority) == (4, 3, 2)  # r1, r3
    assert (ann.reranker_for, ann.chose_ab) == (1, 3)  # r1 only: r2 against, r4 undecided
    assert ann.team_agreement.value == 2 / 3 and ann.reranker_agreement.n == 3
    assert checks.record("nobody") is None
    assert [r.voter for r in checks.records] == [r.voter for r in voter_records(judged_pairs(docs))]
    assert voter_records([]) == [] and check_voters([]).anomalies == {}
