"""How far each voter can be trusted: agreement with the gold comparisons (where execution
decided the pair: one answer passed every check, the other crashed or failed), the voter's own
position bias, and Chatbot Arena's anomalous-voter test (each vote against the other voters' on
the same comparison, combined by Fisher's method). Pure; for admins only (it shows one person's
votes)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from coderank.evaluation.metrics import Estimate, wilson
from coderank.evaluation.pairs import JudgedPair
from coderank.models import CHOICES, gold_pick


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


# A voter is flagged when either test (Fisher's combination, or their position bias) is below this.
FLAG_P = 0.01


@dataclass(frozen=True)
class Anomaly:
    """Two tests of one voter. Chatbot Arena's: each of their votes gets a p-value against the
    other voters' votes on the same comparison, combined by Fisher's method (it catches votes at
    random). And their position bias against the team's (a binomial test of their A share among
    A/B votes), which catches a voter who always picks the same side: half of such votes agree
    with the others, so Fisher's method alone barely sees them."""

    voter: str
    votes_tested: int  # votes on comparisons someone else voted on too
    p_value: float | None  # Fisher's combination; None with no vote tested
    position_p: float | None = None  # None with no A/B vote

    @property
    def flagged(self) -> bool:
        return any(p is not None and p < FLAG_P for p in (self.p_value, self.position_p))


def vote_p_value(choice: str, others: Iterable[str], u: float) -> float:
    """How unusual ``choice`` is among ``others`` (the other voters' choices): the probability,
    under their smoothed distribution, of a choice no more likely than this one, randomised by
    ``u`` (uniform in [0, 1)) over the choices exactly as likely, so that an honest voter's
    p-values are uniform and Fisher's method is neither too strict nor too lenient."""
    counts = Counter(others)
    n = sum(counts.values())
    share = {c: (counts[c] + 0.5) / (n + 0.5 * len(CHOICES)) for c in CHOICES}
    mine = share[choice]
    below = sum(v for v in share.values() if v < mine)
    equal = sum(v for v in share.values() if v == mine)
    return below + u * equal


def anomalies(pairs: Sequence[JudgedPair], *, seed: int = 0) -> dict[str, Anomaly]:
    """Every voter's two tests (seeded: the randomisation is reproducible)."""
    rng = np.random.default_rng(seed)
    logs: dict[str, list[float]] = defaultdict(list)
    for pair in sorted(pairs, key=lambda p: p.comparison_id):
        if len(pair.votes) < 2:
            continue
        for voter in sorted(pair.votes):
            others = [c for v, c in pair.votes.items() if v != voter]
            p = vote_p_value(pair.votes[voter], others, float(rng.random()))
            logs[voter].append(math.log(max(p, 1e-300)))
    records = {r.voter: r for r in voter_records(pairs)}
    team_a = sum(r.chose_a for r in records.values())
    team_ab = sum(r.chose_ab for r in records.values())
    result = {}
    for voter, record in records.items():
        values = logs.get(voter, [])
        fisher = float(stats.chi2.sf(-2 * sum(values), 2 * len(values))) if values else None
        position = (
            float(stats.binomtest(record.chose_a, record.chose_ab, team_a / team_ab).pvalue)
            if record.chose_ab and 0 < team_a < team_ab
            else None
        )
        result[voter] = Anomaly(voter, len(values), fisher, position)
    return result
