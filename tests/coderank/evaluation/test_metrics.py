"""Agreement and preference metrics against hand-worked examples and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from coderank.evaluation.metrics import MIN_DECISIVE, agreement, weighted_tau_b
from coderank.evaluation.pairs import JudgedPair, judged_pairs
from coderank.evaluation.preferences import standings, voting_habits
from harness.comparison_docs import comparison_doc


def pair(cid: str, outcome_votes: dict[str, str], diff: float, *, p: float = 1.0,
         a: str = "explainer", b: str = "optimizer") -> JudgedPair:  # fmt: skip
    return JudgedPair(
        cid, a, b, 0.5 + diff / 2, 0.5 - diff / 2, p, "m1", "2026-11-20", dict(outcome_votes)
    )


HAND = [
    pair("c1", {"u1": "A"}, 0.2, p=0.5),  # reranker right
    pair("c2", {"u1": "B"}, 0.1, p=1.0),  # wrong
    pair("c3", {"u1": "A", "u2": "A", "u3": "B"}, 0.3, p=0.25),  # right, majority A
    pair("c4", {"u1": "tie"}, -0.1),  # counted in tau only
    pair("c5", {"u1": "both_bad"}, 0.4),  # no preference: in neither
]


def test_accuracy_tau_and_rho_by_hand() -> None:
    result = agreement(HAND)
    assert (result.decisive, result.pairs) == (3, 4)
    assert result.accuracy.value == pytest.approx(2 / 3)
    assert result.accuracy.low < 2 / 3 < result.accuracy.high
    # x = [.2, .1, .3, -.1], y = [1, -1, 1, 0]: S = 3 of 6 pairs, one tied in y -> 3 / sqrt(6 * 5)
    assert result.kendall_tau.value == pytest.approx(3 / math.sqrt(30))
    x, y = [0.2, 0.1, 0.3, -0.1], [1, -1, 1, 0]
    assert result.kendall_tau.value == pytest.approx(stats.kendalltau(x, y).statistic)
    assert result.spearman_rho.value == pytest.approx(stats.spearmanr(x, y).statistic)
    # inverse-probability weights 2, 1, 4: right 2 + 4 of 7
    assert result.accuracy_weighted.value == pytest.approx(6 / 7)
    assert not result.enough_data and MIN_DECISIVE == 385


def test_tau_b_matches_scipy_with_ties_on_both_sides() -> None:
    rng = np.random.default_rng(3)
    for n in (2, 10, 500):
        x = np.round(rng.normal(size=n), 1)
        y = rng.choice([-1, 0, 1], size=n)
        expected = stats.kendalltau(x, y).statistic
        got = weighted_tau_b(x, y, np.ones(n))
        assert (got is None and math.isnan(expected)) or got == pytest.approx(expected)


def test_tau_b_with_integer_weights_counts_pairs_of_copies() -> None:
    # Weight 2 on one item = two copies of it, minus the pair of the copies with each other.
    x, y = np.array([0.1, 0.5, -0.2]), np.array([1, -1, 0])
    copies_x, copies_y = np.array([0.1, 0.1, 0.5, -0.2]), np.array([1, 1, -1, 0])
    weighted = weighted_tau_b(x, y, np.array([2.0, 1.0, 1.0]))
    # the copy pair is tied on both x and y, so tau-b of the copies equals the weighted figure
    assert weighted == pytest.approx(stats.kendalltau(copies_x, copies_y).statistic)


def test_intervals_narrow_with_more_data() -> None:
    rng = np.random.default_rng(0)

    def sample(n: int) -> list[JudgedPair]:
        return [
            pair(f"c{i}", {"u": "A" if rng.random() < 0.7 else "B"}, rng.normal() + 0.3)
            for i in range(n)
        ]

    small, large = agreement(sample(40)), agreement(sample(1000))
    width = lambda e: e.high - e.low  # noqa: E731
    assert width(large.accuracy) < width(small.accuracy)
    assert width(large.kendall_tau) < width(small.kendall_tau)
    assert large.enough_data


def test_bradley_terry_and_win_rates_as_chatbot_arena_computes_them() -> None:
    # explainer beats optimizer 3 times out of 4: the rating gap is 400 * log10(3)
    pairs = [pair(f"c{i}", {"u": v}, 0.1) for i, v in enumerate(["A", "A", "A", "B"])]
    by_agent = {s.agent: s for s in standings(pairs)}
    gap = by_agent["explainer"].strength.value - by_agent["optimizer"].strength.value
    assert gap == pytest.approx(400 * math.log10(3), abs=0.5)
    assert by_agent["explainer"].strength.value + by_agent[
        "optimizer"
    ].strength.value == pytest.approx(2000, abs=0.5)
    assert by_agent["explainer"].win_rate.value == 0.75
    assert by_agent["explainer"].win_rate.n == 4
    low, high = by_agent["explainer"].strength.low, by_agent["explainer"].strength.high
    assert (
        low is not None and high is not None and low <= by_agent["explainer"].strength.value <= high
    )


def test_a_tie_is_half_a_win() -> None:
    pairs = [pair("c1", {"u": "A"}, 0.1), pair("c2", {"u": "tie"}, 0.1)]
    by_agent = {s.agent: s for s in standings(pairs)}
    assert by_agent["explainer"].win_rate.value == 0.75


def test_voting_habits() -> None:
    habits = voting_habits(HAND)
    assert habits.votes == 7
    assert habits.position_bias.value == pytest.approx(3 / 5)  # A votes of A-or-B votes
    assert habits.tie_rate.value == pytest.approx(1 / 7)
    assert habits.both_bad_rate.value == pytest.approx(1 / 7)
    agreeing = [pair(f"c{i}", {"u1": c, "u2": c}, 0.1) for i, c in enumerate("ABAB")]
    assert voting_habits(agreeing).voter_agreement.value == pytest.approx(1.0)
    assert voting_habits(agreeing).voter_agreement.n == 4


def test_closed_comparison_documents_become_judged_pairs() -> None:
    docs = [
        comparison_doc("c1", votes={"u1": "A", "u2": "B", "u3": "A"}, score_a=0.6, score_b=0.4,
                       probability=0.5, closed_at="2026-11-20T10:00:00.250+00:00"),
        # Still open: its votes are not an outcome yet, however decisive they look.
        comparison_doc("c2", votes={"u1": "B", "u2": "B"}, status="voting"),
        comparison_doc("c3", votes={}),  # closed without a vote: nothing to judge
    ]  # fmt: skip
    (judged,) = judged_pairs(docs)
    assert judged.comparison_id == "c1" and judged.votes == {"u1": "A", "u2": "B", "u3": "A"}
    assert judged.outcome == "A" and judged.reranker_right and judged.weight == 2.0
    assert (judged.agent_a, judged.agent_b, judged.model) == ("explainer", "optimizer", "m1")
    # It counts in the week it closed in, so the closing time is carried.
    assert judged.closed_at == "2026-11-20T10:00:00.250+00:00"
