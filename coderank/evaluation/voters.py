"""How far each voter can be trusted: agreement with the gold comparisons (where execution
decided the pair: one answer passed every check, the other crashed or failed) and the voter's own
position bias. Pure; for admins only (it shows one person's votes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from coderank.evaluation.metrics import Estimate, wilson
from coderank.evaluation.pairs import JudgedPair
from coderank.models import gold_pick


@dataclass(frozen=True)
class VoterRecord:
    voter: str
    votes: int
    gold_votes: int  # votes on gold comparisons, ties and both-bad included
    gold_for: int  # votes for the answer execution showed to pass
    gold_against: int  # votes for the answer execution showed to fail
    chose_a: int  # A/B votes for whichever answer was shown as A
    chose_ab: int  # A/B votes

    @property
    def gold_agreement(self) -> Estimate:
        """Of the voter's A/B votes on gold comparisons, the share for the gold answer."""
        return wilson(self.gold_for, self.gold_for + self.gold_against)

    @property
    def position_bias(self) -> Estimate:
        """The share of the voter's A/B votes that went to whichever answer was shown as A."""
        return wilson(self.chose_a, self.chose_ab)


def voter_records(pairs: Iterable[JudgedPair]) -> list[VoterRecord]:
    """One record per voter, most votes first."""
    votes: dict[str, int] = defaultdict(int)
    on_gold: dict[str, int] = defaultdict(int)
    gold_right: dict[str, int] = defaultdict(int)
    gold_decisive: dict[str, int] = defaultdict(int)
    chose_a: dict[str, int] = defaultdict(int)
    chose_ab: dict[str, int] = defaultdict(int)
    for pair in pairs:
        gold = gold_pick(pair.exec_a, pair.exec_b)
        for voter, choice in pair.votes.items():
            votes[voter] += 1
            if choice in ("A", "B"):
                chose_ab[voter] += 1
                chose_a[voter] += choice == "A"
            if gold is None:
                continue
            on_gold[voter] += 1
            if choice in ("A", "B"):
                gold_decisive[voter] += 1
                gold_right[voter] += choice == gold
    return sorted(
        (
            VoterRecord(
                voter=voter,
                votes=n,
                gold_votes=on_gold[voter],
                gold_for=gold_right[voter],
                gold_against=gold_decisive[voter] - gold_right[voter],
                chose_a=chose_a[voter],
                chose_ab=chose_ab[voter],
            )
            for voter, n in votes.items()
        ),
        key=lambda r: (-r.votes, r.voter),
    )
