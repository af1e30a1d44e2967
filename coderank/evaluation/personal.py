"""A voter's own figures, shown to them alone: how often their vote was the team's majority, how
often it went to the answer the reranker scored higher, and their position bias. Read from their
record (:mod:`coderank.evaluation.voters`) once they have voted on ``MIN_OWN_VOTES`` closed
comparisons. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coderank.evaluation.metrics import Estimate, wilson
from coderank.evaluation.pairs import JudgedPair
from coderank.evaluation.voters import VoterRecord, voter_records

# Below this many votes a Wilson interval is wider than +-20 points: not yet worth showing.
MIN_OWN_VOTES = 20


@dataclass(frozen=True)
class OwnFigures:
    """One voter's figures over the closed comparisons they voted on."""

    voter: str
    votes: int  # on closed comparisons
    team: Estimate  # their vote was the outcome, on comparisons others voted on too
    reranker: Estimate  # their A/B votes for the answer the reranker scored higher
    position_bias: Estimate  # their A/B votes for the answer shown as A

    @property
    def needed(self) -> int:
        """How many more votes on closed comparisons until the figures are shown (0: shown)."""
        return max(0, MIN_OWN_VOTES - self.votes)


def figures_of(voter: str, record: VoterRecord | None) -> OwnFigures:
    """``voter``'s figures from their record (``None``: no vote on a closed comparison yet)."""
    if record is None:
        none = wilson(0, 0)
        return OwnFigures(voter, 0, none, none, none)
    return OwnFigures(
        voter,
        record.votes,
        record.team_agreement,
        record.reranker_agreement,
        record.position_bias,
    )


def own_figures(pairs: Iterable[JudgedPair], voter: str) -> OwnFigures:
    """``voter``'s figures over the closed comparisons ``pairs`` (only theirs are counted)."""
    records = voter_records(p for p in pairs if voter in p.votes)
    return figures_of(voter, next((r for r in records if r.voter == voter), None))
