"""A voter's own figures: shown after MIN_OWN_VOTES votes on closed comparisons, counted as the
simulated team's votes say, and only theirs."""

from __future__ import annotations

from coderank.evaluation.formatting import own_rows, votes_needed_text
from coderank.evaluation.metrics import wilson
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.personal import MIN_OWN_VOTES, figures_of, own_figures
from coderank.evaluation.voters import check_voters
from tests.simulated_team import ALWAYS_A, FEW, FEW_VOTES, HONEST, own_counts, team_comparisons


def test_a_voters_figures_are_their_votes_against_the_team_and_the_reranker() -> None:
    docs = team_comparisons()
    pairs = judged_pairs(docs)
    for voter in (HONEST[0], ALWAYS_A):
        own = own_figures(pairs, voter)
        counts = own_counts(docs, voter)
        assert own.votes == len(docs) and own.needed == 0
        assert own.team == wilson(*counts["team"])
        assert own.reranker == wilson(*counts["reranker"])
        assert own.position_bias == wilson(*counts["position"])
        # The same as read from everyone's records, counted once.
        assert figures_of(voter, check_voters(pairs).record(voter)) == own
    assert own_figures(pairs, ALWAYS_A).position_bias.value == 1.0
    assert [name.split(" (")[0] for name, _ in own_rows(own_figures(pairs, HONEST[0]))] == [
        "agreement with the team's majority",
        "agreement with the reranker",
        "position bias",
    ]


def test_below_twenty_votes_a_voter_is_told_how_many_more_are_needed() -> None:
    pairs = judged_pairs(team_comparisons())
    few = own_figures(pairs, FEW)
    assert (few.votes, few.needed) == (FEW_VOTES, MIN_OWN_VOTES - FEW_VOTES)
    assert f"{MIN_OWN_VOTES - FEW_VOTES} more votes to go ({FEW_VOTES} so far)" in (
        votes_needed_text(few)
    )
    nobody = own_figures(pairs, "U0NOBODY")
    assert (nobody.votes, nobody.needed, nobody.team.value) == (0, MIN_OWN_VOTES, None)
    one_short = own_figures(pairs[: MIN_OWN_VOTES - 1], HONEST[0])
    assert "1 more vote to go" in votes_needed_text(one_short)
