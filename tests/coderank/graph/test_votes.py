"""Pure vote and pair logic."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from coderank.errors import InvalidVoteError
from coderank.graph.votes import choose_pair, parse_resume
from coderank.models import majority, reranker_agrees, reranker_pick, tally

SCORES = {"concise_fixer": 0.9, "explainer": 0.5, "optimizer": 0.45}


def test_tally_and_majority() -> None:
    assert tally(["A", "A", "B"]) == {"A": 2, "B": 1, "tie": 0, "both_bad": 0}
    assert majority(tally(["A", "A", "B"])) == "A"
    assert majority(tally(["A", "B"])) == "tie"
    assert majority(tally(["both_bad"])) == "both_bad"
    assert majority(tally([])) is None


def test_reranker_agreement() -> None:
    assert reranker_agrees("A", 0.9, 0.1) is True
    assert reranker_agrees("B", 0.9, 0.1) is False
    assert reranker_agrees("tie", 0.9, 0.1) is None
    assert reranker_agrees("A", 0.5, 0.5) is False  # equal scores prefer neither
    assert (reranker_pick(0.9, 0.1), reranker_pick(0.1, 0.9), reranker_pick(0.5, 0.5)) == (
        "A",
        "B",
        None,
    )


def test_parse_resume_accepts_votes_and_close_only() -> None:
    assert parse_resume({"user": "u", "choice": "tie"}) == {"user": "u", "choice": "tie"}
    assert parse_resume({"user": "u", "action": "close"}) == {
        "action": "close",
        "user": "u",
        "how": "requester",
    }
    closing = {"user": "u", "action": "close", "how": "deadline"}
    assert parse_resume(closing)["how"] == "deadline"
    for bad in [
        {"user": "u", "choice": "C"},
        {"choice": "A"},
        "A",
        {"user": "", "choice": "A"},
        {**closing, "how": "whim"},
    ]:
        with pytest.raises(InvalidVoteError):
            parse_resume(bad)


def test_top2_and_uncertain_without_exploration() -> None:
    rng = random.Random(0)
    top = choose_pair(SCORES, policy="top2", explore=0.0, rng=rng)
    assert {top.a, top.b} == {"concise_fixer", "explainer"}
    assert top.probability == 1.0 and not top.explored
    unsure = choose_pair(SCORES, policy="uncertain", explore=0.0, rng=rng)
    assert {unsure.a, unsure.b} == {"explainer", "optimizer"}


def test_recorded_probability_matches_how_often_the_pair_is_shown() -> None:
    rng = random.Random(1)
    runs = 6000
    shown = Counter()
    recorded = {}
    for _ in range(runs):
        pair = choose_pair(SCORES, policy="top2", explore=0.3, rng=rng)
        key = frozenset((pair.a, pair.b))
        shown[key] += 1
        recorded[key] = pair.probability
    # 0.7 + 0.3/3 for the top pair, 0.3/3 for each other pair.
    assert recorded[frozenset(("concise_fixer", "explainer"))] == pytest.approx(0.8)
    assert recorded[frozenset(("explainer", "optimizer"))] == pytest.approx(0.1)
    for key, count in shown.items():
        assert count / runs == pytest.approx(recorded[key], abs=0.02)


def test_a_and_b_positions_are_randomised() -> None:
    rng = random.Random(2)
    pairs = [choose_pair(SCORES, policy="top2", explore=0.0, rng=rng) for _ in range(2000)]
    a_is_best = sum(p.a == "concise_fixer" for p in pairs) / len(pairs)
    assert a_is_best == pytest.approx(0.5, abs=0.05)
    assert all(p.swapped == (p.a == "explainer") for p in pairs)


def test_random_policy_is_uniform() -> None:
    pair = choose_pair(SCORES, policy="random", explore=0.0, rng=random.Random(3))
    assert pair.explored and pair.probability == pytest.approx(1 / 3)


def test_with_execution_the_pair_policy_ranks_by_how_the_answers_ran_first() -> None:
    ran = {"concise_fixer": 0.2, "explainer": 1.0, "optimizer": 1.0}
    rng = random.Random(0)
    top = choose_pair(SCORES, policy="top2", explore=0.0, rng=rng, ran=ran)
    assert {top.a, top.b} == {"explainer", "optimizer"}  # the reranker's favourite crashed
    assert top.probability == 1.0
    # Uncertain: the pair the two signals separate least (equal runs, closest scores).
    close = choose_pair(SCORES, policy="uncertain", explore=0.0, rng=rng, ran=ran)
    assert {close.a, close.b} == {"explainer", "optimizer"}
    alone = choose_pair(SCORES, policy="top2", explore=0.0, rng=rng)
    assert {alone.a, alone.b} == {"concise_fixer", "explainer"}
