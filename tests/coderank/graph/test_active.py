"""PAIR_POLICY=active: the pair whose agreement is least known, with an exact probability."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import pytest

from coderank.config import from_env
from coderank.errors import ConfigError
from coderank.evaluation.metrics import wilson
from coderank.evaluation.report import excluded_voters
from coderank.graph.active import PairRecord, agent_pair, outcome_of, pair_records, wilson_width
from coderank.graph.votes import choose_pair
from coderank.models import CLOSED
from coderank.services import build_services
from coderank.store import COMPARISONS
from harness.comparison_docs import comparison_doc, team_votes
from harness.fakes import LengthReranker, fake_agents
from harness.settings import make_settings

SCORES = {"concise_fixer": 0.9, "explainer": 0.5, "optimizer": 0.45}
ALL_PAIRS = [agent_pair(a, b) for a, b in itertools.combinations(SCORES, 2)]
# Much is known of two agent pairs; concise_fixer/optimizer has been judged least.
KNOWN = {
    agent_pair("concise_fixer", "explainer"): PairRecord(decisive=200, agreed=150),
    agent_pair("explainer", "optimizer"): PairRecord(decisive=120, agreed=70),
    agent_pair("concise_fixer", "optimizer"): PairRecord(decisive=8, agreed=7),
}


def shown(explore: float, known: dict, *, runs: int = 6000, seed: int = 1) -> tuple[dict, dict]:
    """How often each unordered pair was shown, and the probability recorded with it."""
    rng = random.Random(seed)
    counts: Counter = Counter()
    recorded: dict = {}
    for _ in range(runs):
        pair = choose_pair(SCORES, policy="active", explore=explore, rng=rng, known=known)
        key = agent_pair(pair.a, pair.b)
        counts[key] += 1
        recorded.setdefault(key, set()).add(pair.probability)
        assert pair.policy == "active"
    return {k: n / runs for k, n in counts.items()}, recorded


def test_active_shows_the_agent_pair_whose_agreement_is_least_known() -> None:
    pair = choose_pair(SCORES, policy="active", explore=0.0, rng=random.Random(0), known=KNOWN)
    assert {pair.a, pair.b} == {"concise_fixer", "optimizer"}
    assert pair.probability == 1.0 and not pair.explored


def test_on_equal_knowledge_the_closest_scores_decide() -> None:
    pair = choose_pair(SCORES, policy="active", explore=0.0, rng=random.Random(0), known={})
    assert {pair.a, pair.b} == {"explainer", "optimizer"}  # 0.5 and 0.45
    # A pair never judged is less known than one judged once.
    once = {agent_pair("explainer", "optimizer"): PairRecord(1, 1)}
    pair = choose_pair(SCORES, policy="active", explore=0.0, rng=random.Random(0), known=once)
    assert {pair.a, pair.b} == {"concise_fixer", "explainer"}  # 0.9/0.5 closer than 0.9/0.45


@pytest.mark.parametrize("explore", [0.0, 0.2, 1.0])
def test_recorded_probabilities_sum_to_one_and_match_how_often_each_pair_is_shown(
    explore: float,
) -> None:
    frequency, recorded = shown(explore, KNOWN)
    probability = {key: values.pop() for key, values in recorded.items() if len(values) == 1}
    assert probability.keys() == recorded.keys()  # one probability per pair, given what is known
    every = {key: probability.get(key, explore / 3) for key in ALL_PAIRS}
    assert sum(every.values()) == pytest.approx(1.0)
    for key in ALL_PAIRS:
        assert frequency.get(key, 0.0) == pytest.approx(every[key], abs=0.02)


def test_pair_explore_keeps_the_uniform_mix() -> None:
    frequency, recorded = shown(0.3, KNOWN)
    pick = agent_pair("concise_fixer", "optimizer")
    assert [*recorded[pick]] == [pytest.approx(0.7 + 0.3 / 3)]
    for other in set(ALL_PAIRS) - {pick}:
        assert [*recorded[other]] == [pytest.approx(0.3 / 3)]  # every pair can still be shown
        assert frequency[other] == pytest.approx(0.1, abs=0.02)


def test_the_interval_width_is_the_evaluations_wilson_interval() -> None:
    for agreed, n in [(0, 1), (7, 8), (150, 200), (385, 770)]:
        estimate = wilson(agreed, n)
        assert estimate.low is not None and estimate.high is not None
        assert wilson_width(agreed, n) == pytest.approx(estimate.high - estimate.low)
    assert wilson_width(0, 0) == 1.0 and PairRecord().width == 1.0


def closed_doc(cid: str, a: str, b: str, votes: dict[str, str], **extra: object) -> dict:
    return {
        "_id": cid, "comparison_id": cid, "status": CLOSED,
        "closed_at": f"2026-03-01T10:00:{len(cid):02d}.000+00:00",
        "pair": {"a": a, "b": b, "probability": 0.5},
        "scores": {a: 0.9, b: 0.1}, "votes": votes, **extra,
    }  # fmt: skip


def test_closed_comparisons_fold_into_per_agent_pair_records() -> None:
    docs = [
        closed_doc("c1", "explainer", "optimizer", {"u": "A"}),  # reranker agrees
        closed_doc("c2", "optimizer", "explainer", {"u": "A", "v": "A", "w": "B"}),  # agrees
        closed_doc("c3", "explainer", "optimizer", {"u": "B"}),  # disagrees
        closed_doc("c4", "explainer", "optimizer", {"u": "tie"}),  # not decisive
        closed_doc("c5", "explainer", "optimizer", {}),  # no votes
        {**closed_doc("c6", "explainer", "optimizer", {"u": "A"}), "status": "voting"},
    ]
    records = pair_records(o for o in map(outcome_of, docs) if o is not None)
    assert records == {agent_pair("explainer", "optimizer"): PairRecord(decisive=3, agreed=2)}


def test_active_is_a_setting_and_a_wrong_policy_is_refused_naming_the_choices() -> None:
    assert from_env({"PAIR_POLICY": "active"}, env_file=None).pair_policy == "active"
    with pytest.raises(ConfigError) as info:
        from_env({"PAIR_POLICY": "activ"}, env_file=None)
    assert str(info.value) == (
        "PAIR_POLICY='activ' is not valid: expected one of top2, uncertain, random, active"
    )


def test_the_graph_shows_next_the_agent_pair_the_team_has_judged_least(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, PAIR_POLICY="active", PAIR_EXPLORE="0", VOTE_QUORUM="0", EXECUTION="off"
    )
    services = build_services(
        settings, agents=fake_agents(), reranker=LengthReranker(), rng=random.Random(7)
    )
    seen = []
    try:
        for i in range(3):
            comparison = services.comparisons.start(f"Write f{i}", requester="al", source="test")
            pair = comparison.pair
            assert pair is not None and pair.policy == "active" and pair.probability == 1.0
            seen.append(agent_pair(pair.a, pair.b))
            services.comparisons.vote(comparison.comparison_id, user="bo", choice="A")
            services.comparisons.close(comparison.comparison_id, user="al")
        # Each closed comparison makes its agent pair better known, so the next one differs.
        assert sorted(seen, key=sorted) == sorted(ALL_PAIRS, key=sorted)
        # Still open comparisons count for nothing: this one shows the closest scores again.
        first = services.comparisons.start("Write g", requester="al", source="test").pair
        second = services.comparisons.start("Write h", requester="al", source="test").pair
        assert first is not None and second is not None
        assert agent_pair(first.a, first.b) == agent_pair(second.a, second.b) == seen[0]
    finally:
        services.close()


@pytest.mark.parametrize("policy", ["keep", "exclude"])
def test_under_exclude_a_pair_judged_only_by_flagged_voters_is_the_least_known(
    tmp_path: Path, policy: str
) -> None:
    """20 comparisons of explainer/optimizer had only the two voters the voter tests flag: under
    ``keep`` that pair is the best known and is not shown next; under ``exclude`` nothing is
    known of it, so it is."""
    settings = make_settings(
        tmp_path, PAIR_POLICY="active", PAIR_EXPLORE="0", VOTE_QUORUM="0", EXECUTION="off",
        FLAGGED_VOTERS=policy,
    )  # fmt: skip
    flagged_only = {"always_a": "A", "random": "A"}
    docs = [comparison_doc(f"x{i}", votes=flagged_only) for i in range(20)]
    for a, b, seed in (("concise_fixer", "explainer", 3), ("concise_fixer", "optimizer", 4)):
        team = enumerate(team_votes(seed=seed))
        docs += [comparison_doc(f"{a}-{b}{i}", votes=v, agent_a=a, agent_b=b) for i, v in team]
    services = build_services(settings, agents=fake_agents(), reranker=LengthReranker())
    try:
        services.store.upsert_many(COMPARISONS, docs)
        assert excluded_voters(services.store, "exclude") == {"always_a", "random"}
        pair = services.comparisons.start("Write f", requester="al", source="test").pair
        assert pair is not None
        shown = agent_pair(pair.a, pair.b)
        assert (shown == agent_pair("explainer", "optimizer")) == (policy == "exclude")
    finally:
        services.close()
