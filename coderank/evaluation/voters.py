"""How far each voter can be trusted: agreement with the gold comparisons (where execution
decided the pair: one answer passed every check, the other crashed or failed), the voter's own
position bias, and Chatbot Arena's anomalous-voter test (each vote against the other voters' on
the same comparison, combined by Fisher's method). Pure; for admins only (it shows one person's
votes), except a voter's own record (:mod:`coderank.evaluation.personal`).

Every vote is counted once, into arrays: a million votes are checked in about a second."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import stats

from coderank.evaluation.metrics import Estimate, wilson
from coderank.evaluation.pairs import JudgedPair
from coderank.models import CHOICES, gold_pick

A, B = 0, 1  # indices in CHOICES
NONE = -1  # no gold answer; equal reranker scores


@dataclass(frozen=True)
class VoterRecord:
    voter: str
    votes: int
    gold_votes: int  # votes on gold comparisons, ties and both-bad included
    gold_for: int  # votes for the answer execution showed to pass
    gold_against: int  # votes for the answer execution showed to fail
    chose_a: int  # A/B votes for whichever answer was shown as A
    chose_ab: int  # A/B votes
    with_others: int  # votes on comparisons someone else voted on too
    with_majority: int  # of those, votes that were the outcome (the team's majority)
    reranker_for: int  # A/B votes for the answer the reranker scored strictly higher

    @property
    def gold_agreement(self) -> Estimate:
        """Of the voter's A/B votes on gold comparisons, the share for the gold answer."""
        return wilson(self.gold_for, self.gold_for + self.gold_against)

    @property
    def position_bias(self) -> Estimate:
        """The share of the voter's A/B votes that went to whichever answer was shown as A."""
        return wilson(self.chose_a, self.chose_ab)

    @property
    def team_agreement(self) -> Estimate:
        """Of the voter's votes on comparisons others voted on too, the share that was the
        outcome (a draw at the top is a tie), as the Home's agreement with the team counts."""
        return wilson(self.with_majority, self.with_others)

    @property
    def reranker_agreement(self) -> Estimate:
        """Of the voter's A/B votes, the share for the answer the reranker scored higher."""
        return wilson(self.reranker_for, self.chose_ab)


@dataclass(frozen=True)
class _VoteTable:
    """Every vote of some judged pairs, one array entry per vote, comparisons in id order and
    each comparison's voters in name order (the order the randomisation is drawn in)."""

    voters: list[str]  # voter index -> id
    voter: np.ndarray  # per vote: its voter's index
    choice: np.ndarray  # per vote: its index in CHOICES
    pair: np.ndarray  # per vote: its comparison's index
    counts: np.ndarray  # per comparison: votes per choice
    outcome: np.ndarray  # per comparison: the outcome's index in CHOICES, or NONE
    gold: np.ndarray  # per comparison: A, B or NONE
    higher: np.ndarray  # per comparison: A or B, the answer the reranker scored higher; NONE


def _vote_table(pairs: Iterable[JudgedPair]) -> _VoteTable:
    code = {c: i for i, c in enumerate(CHOICES)}
    index: dict[str, int] = {}
    voter: list[int] = []
    choice: list[int] = []
    sizes: list[int] = []
    counts: list[tuple[int, int, int, int]] = []
    outcome: list[int] = []
    gold: list[int] = []
    higher: list[int] = []
    for p in sorted(pairs, key=lambda p: p.comparison_id):
        sizes.append(len(p.votes))
        for name in sorted(p.votes):
            voter.append(index.setdefault(name, len(index)))
            choice.append(code[p.votes[name]])
        counts.append(p.counts)  # the pair's tally and outcome, as every figure has them
        outcome.append(NONE if p.outcome is None else code[p.outcome])
        g = gold_pick(p.exec_a, p.exec_b)
        gold.append(NONE if g is None else code[g])
        d = p.score_diff
        higher.append(A if d > 0 else B if d < 0 else NONE)
    return _VoteTable(
        voters=list(index),
        voter=np.array(voter, dtype=np.int64),
        choice=np.array(choice, dtype=np.int64),
        pair=np.repeat(np.arange(len(sizes)), sizes),
        counts=np.array(counts, dtype=np.int64).reshape(-1, len(CHOICES)),
        outcome=np.array(outcome, dtype=np.int64),
        gold=np.array(gold, dtype=np.int64),
        higher=np.array(higher, dtype=np.int64),
    )


def _records(table: _VoteTable) -> list[VoterRecord]:
    t = table

    def per_voter(mask: np.ndarray | None = None) -> list[int]:
        w = None if mask is None else mask.astype(np.int64)
        return [int(v) for v in np.bincount(t.voter, weights=w, minlength=len(t.voters))]

    decisive = t.choice <= B
    gold = t.gold[t.pair]
    on_gold = gold != NONE
    with_others = t.counts.sum(axis=1)[t.pair] >= 2
    columns = zip(
        t.voters,
        per_voter(),
        per_voter(on_gold),
        per_voter(on_gold & decisive & (t.choice == gold)),
        per_voter(on_gold & decisive & (t.choice != gold)),
        per_voter(t.choice == A),
        per_voter(decisive),
        per_voter(with_others),
        per_voter(with_others & (t.choice == t.outcome[t.pair])),
        per_voter(decisive & (t.choice == t.higher[t.pair])),
        strict=True,
    )
    return sorted((VoterRecord(*c) for c in columns), key=lambda r: (-r.votes, r.voter))


def voter_records(pairs: Iterable[JudgedPair]) -> list[VoterRecord]:
    """One record per voter, most votes first."""
    return _records(_vote_table(pairs))


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
    p-values are uniform and Fisher's method is neither too strict nor too lenient.

    The definition, one vote at a time; :func:`check_voters` computes it for every vote at once."""
    counts = Counter(others)
    n = sum(counts.values())
    share = {c: (counts[c] + 0.5) / (n + 0.5 * len(CHOICES)) for c in CHOICES}
    mine = share[choice]
    below = sum(v for v in share.values() if v < mine)
    equal = sum(v for v in share.values() if v == mine)
    return below + u * equal


def _vote_p_values(t: _VoteTable, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`vote_p_value` of every vote on a comparison with another voter: (their voters'
    indices, their p-values), one uniform draw each, in the table's order."""
    tested = t.counts.sum(axis=1)[t.pair] >= 2
    chosen, pair = t.choice[tested], t.pair[tested]
    others = t.counts[pair].astype(float)
    others[np.arange(len(chosen)), chosen] -= 1
    share = (others + 0.5) / (others.sum(axis=1, keepdims=True) + 0.5 * len(CHOICES))
    mine = others[np.arange(len(chosen)), chosen][:, None]  # counts order as shares do
    below = np.where(others < mine, share, 0.0).sum(axis=1)
    equal = np.where(others == mine, share, 0.0).sum(axis=1)
    return t.voter[tested], below + rng.random(len(chosen)) * equal


@dataclass(frozen=True)
class VoterChecks:
    """Every voter's record and tests, from one count of the votes."""

    records: list[VoterRecord]  # most votes first
    anomalies: dict[str, Anomaly] = field(default_factory=dict)

    @property
    def flagged(self) -> frozenset[str]:
        return frozenset(v for v, a in self.anomalies.items() if a.flagged)

    def record(self, voter: str) -> VoterRecord | None:
        return self._by_voter.get(voter)

    @cached_property
    def _by_voter(self) -> dict[str, VoterRecord]:
        return {r.voter: r for r in self.records}


def check_voters(pairs: Iterable[JudgedPair], *, seed: int = 0) -> VoterChecks:
    """Every voter's record and two tests (seeded: the randomisation is reproducible)."""
    table = _vote_table(pairs)
    records = _records(table)
    who, p = _vote_p_values(table, np.random.default_rng(seed))
    logs = np.bincount(who, weights=np.log(np.maximum(p, 1e-300)), minlength=len(table.voters))
    tested = np.bincount(who, minlength=len(table.voters))
    fisher = stats.chi2.sf(-2 * logs, 2 * np.maximum(tested, 1))
    team_a = sum(r.chose_a for r in records)
    team_ab = sum(r.chose_ab for r in records)
    position = {
        r.voter: float(stats.binomtest(r.chose_a, r.chose_ab, team_a / team_ab).pvalue)
        for r in records
        if r.chose_ab and 0 < team_a < team_ab
    }
    found = {}
    for i, voter in enumerate(table.voters):
        k = int(tested[i])
        found[voter] = Anomaly(voter, k, float(fisher[i]) if k else None, position.get(voter))
    return VoterChecks(records, {r.voter: found[r.voter] for r in records})


def anomalies(pairs: Sequence[JudgedPair], *, seed: int = 0) -> dict[str, Anomaly]:
    """Every voter's two tests (seeded: the randomisation is reproducible), by voter, most
    votes first."""
    return check_voters(pairs, seed=seed).anomalies
