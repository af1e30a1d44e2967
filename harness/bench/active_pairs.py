"""PAIR_POLICY=active versus random on synthetic voters: how many votes each needs before every
agent pair's agreement (reranker versus team) is known to a 95% interval of a given width, and
what active costs the overall reweighted agreement.

Pure Python and seeded: each comparison draws three answers' hidden qualities, the reranker's
noisy scores and three voters' noisy choices; the pair is chosen by the real ``choose_pair`` with
what the real ``outcome_of`` made of the comparisons closed before it.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coderank.evaluation.metrics import agreement
from coderank.evaluation.pairs import JudgedPair
from coderank.graph.active import AgentPair, PairRecord, outcome_of
from coderank.graph.votes import choose_pair
from coderank.models import CLOSED
from harness.bench.table import Row


@dataclass(frozen=True)
class World:
    """The synthetic team and reranker: each answer's quality is its agent's mean plus noise."""

    name: str
    means: Mapping[str, float]
    quality_sd: float = 0.5
    reranker_noise: float = 0.6


# concise_fixer and explainer are close (the reranker and the team often disagree on them),
# optimizer is far ahead (an easy pair for everyone): the case active choice is for.
UNEVEN = World("uneven", {"concise_fixer": 0.0, "explainer": 0.25, "optimizer": 1.5})
# Three alike agents: every agent pair is equally hard, so no pair deserves more votes.
EVEN = World("even", {"concise_fixer": 0.0, "explainer": 0.0, "optimizer": 0.0})
VOTER_NOISE = 0.5
TIE_BAND = 0.3  # a voter whose noisy quality difference is this small calls it a tie (or both bad)
VOTERS = 3
TARGET_WIDTH = 0.10  # +-5 points, as MIN_DECISIVE in coderank.evaluation.metrics
MAX_COMPARISONS = 20_000


@dataclass(frozen=True)
class Run:
    """One seeded run: votes until every agent pair's interval was at most the target width,
    and the judged pairs collected on the way."""

    policy: str
    seed: int
    votes: int | None  # None: not reached within MAX_COMPARISONS
    pairs: list[JudgedPair]


def _voter(rng: random.Random, gap: float) -> str:
    seen = gap + rng.gauss(0, VOTER_NOISE)
    if abs(seen) < TIE_BAND:
        return "tie" if rng.random() < 0.7 else "both_bad"
    return "A" if seen > 0 else "B"


def simulate(
    policy: str,
    *,
    seed: int,
    world: World = UNEVEN,
    explore: float = 0.2,
    target: float = TARGET_WIDTH,
    max_comparisons: int = MAX_COMPARISONS,
) -> Run:
    """Show comparisons under ``policy`` until every agent pair's agreement has a 95% Wilson
    interval at most ``target`` wide (or ``max_comparisons`` were shown)."""
    draw, chooser = random.Random(seed), random.Random(seed + 1_000_003)
    known: dict[AgentPair, PairRecord] = {}
    pairs: list[JudgedPair] = []
    agent_pairs = 3  # C(3, 2)
    for c in range(1, max_comparisons + 1):
        quality = {a: m + draw.gauss(0, world.quality_sd) for a, m in world.means.items()}
        scores = {a: q + draw.gauss(0, world.reranker_noise) for a, q in quality.items()}
        pair = choose_pair(scores, policy=policy, explore=explore, rng=chooser, known=known)
        gap = quality[pair.a] - quality[pair.b]
        votes = {f"u{v}": _voter(draw, gap) for v in range(VOTERS)}
        doc = {"status": CLOSED, "pair": pair.to_dict(), "votes": votes, "scores": scores}
        outcome = outcome_of(doc)
        if outcome is not None:
            key, agrees = outcome
            was = known.get(key, PairRecord())
            known[key] = PairRecord(was.decisive + 1, was.agreed + agrees)
        pairs.append(
            JudgedPair(
                comparison_id=f"c{c}", agent_a=pair.a, agent_b=pair.b,
                score_a=scores[pair.a], score_b=scores[pair.b], probability=pair.probability,
                model="sim", closed_at="", votes=votes,
            )
        )  # fmt: skip
        if len(known) == agent_pairs and max(r.width for r in known.values()) <= target:
            return Run(policy, seed, c * VOTERS, pairs)
    return Run(policy, seed, None, pairs)


def overall_width(pairs: Sequence[JudgedPair]) -> float:
    """The width of the reweighted (1/p) agreement's 95% interval, as the evaluation reports it."""
    weighted = agreement(pairs).accuracy_weighted
    assert weighted.low is not None and weighted.high is not None
    return weighted.high - weighted.low


@dataclass(frozen=True)
class Comparison:
    """Medians over seeds of ``random`` and ``active`` runs."""

    random_votes: float
    active_votes: float
    ratio: float  # active / random votes, per seed, then the median
    overall_ratio: float  # (active / random width of the overall reweighted interval)^2
    seeds: int
    active_wins: int  # seeds where active needed fewer votes


def compare(
    seeds: Sequence[int],
    *,
    world: World = UNEVEN,
    explore: float = 0.2,
    target: float = TARGET_WIDTH,
) -> Comparison:
    """Run both policies on each seed (the same synthetic world) and summarise."""
    ratios, overall, random_votes, active_votes = [], [], [], []
    for seed in seeds:
        uniform = simulate("random", seed=seed, world=world, explore=explore, target=target)
        active = simulate("active", seed=seed, world=world, explore=explore, target=target)
        if uniform.votes is None or active.votes is None:
            raise RuntimeError(f"seed {seed}: the target width was not reached")
        random_votes.append(uniform.votes)
        active_votes.append(active.votes)
        ratios.append(active.votes / uniform.votes)
        # The overall figure at equal votes: both runs cut to the shorter one's comparisons.
        n = min(len(uniform.pairs), len(active.pairs))
        overall.append((overall_width(active.pairs[:n]) / overall_width(uniform.pairs[:n])) ** 2)
    return Comparison(
        random_votes=statistics.median(random_votes),
        active_votes=statistics.median(active_votes),
        ratio=statistics.median(ratios),
        overall_ratio=statistics.median(overall),
        seeds=len(seeds),
        active_wins=sum(r < 1 for r in ratios),
    )


def bench_active_pairs(seeds: int = 20, *, explore: float = 0.2) -> list[Row]:
    """The benchmark rows, for each world: votes needed by each policy, and the ratios."""
    rows = []
    for world in (UNEVEN, EVEN):
        result = compare(range(seeds), world=world, explore=explore)
        setting = f"{world.name} agents, PAIR_EXPLORE={explore}, median of {seeds} seeds"
        rows += [
            Row(
                f"votes needed, {world.name}, random",
                f"{result.random_votes:.0f}",
                "votes",
                f"until every agent pair's 95% interval <= {TARGET_WIDTH:.2f}; {setting}",
            ),
            Row(f"votes needed, {world.name}, active", f"{result.active_votes:.0f}", "votes", ""),
            Row(
                f"active / random votes, {world.name}",
                f"{result.ratio:.2f}",
                "x",
                f"per seed, median; active needed fewer on {result.active_wins} of {seeds} seeds",
            ),
            Row(
                f"active / random votes, {world.name}, overall 1/p",
                f"{result.overall_ratio:.2f}",
                "x",
                "for the same overall reweighted-agreement interval (uneven 1/p weights)",
            ),
        ]
    return rows
