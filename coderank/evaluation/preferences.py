"""What the team prefers: per-agent win rates and Bradley-Terry strengths, position bias, tie and
both-bad rates, and agreement between voters. Pure functions over judged pairs."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from coderank.evaluation.metrics import Estimate, wilson
from coderank.evaluation.pairs import JudgedPair
from coderank.evaluation.style import STYLE_FEATURES, style_differences
from coderank.models import CHOICES

# Chatbot Arena's Elo-scale Bradley-Terry: scale 400, base 10, 1000 initial, 100 bootstrap rounds.
SCALE, BASE, INIT_RATING, BT_ROUNDS = 400.0, 10.0, 1000.0, 100
# Few columns (the agents, the style features), many rows: a handful of Newton steps. L-BFGS took
# a dozen iterations of tiny BLAS calls per fit, each slow when other processes hold the cores
# (the bootstrap fits 100 times).
SOLVER = "newton-cholesky"


@dataclass(frozen=True)
class AgentStanding:
    agent: str
    comparisons: int  # comparisons with an A, B or tie outcome the agent took part in
    win_rate: Estimate  # (wins + ties / 2) / comparisons
    strength: Estimate  # Bradley-Terry rating, 95% bootstrap interval
    # The rating with the answers' style held equal (style control), 95% Wald interval.
    styled: Estimate = field(default_factory=lambda: Estimate(None, 0))


@dataclass(frozen=True)
class StyleFit:
    """The contextual Bradley-Terry fit: agent ratings with style held equal, and each style
    feature's effect on the log-odds of winning (per standard deviation of its normalised
    difference), with 95% Wald intervals."""

    strengths: dict[str, Estimate]
    effects: dict[str, Estimate]


def _battles(pairs: Sequence[JudgedPair]) -> list[tuple[str, str, float]]:
    """(agent_a, agent_b, score of a: 1 win, 0.5 tie, 0 loss) for each comparison's outcome."""
    result = {"A": 1.0, "B": 0.0, "tie": 0.5}
    return [(p.agent_a, p.agent_b, result[p.outcome]) for p in pairs if p.outcome in result]


def bradley_terry(
    battles: Sequence[tuple[str, str, float, float]], agents: Sequence[str]
) -> np.ndarray:
    """Ratings as Chatbot Arena computes them: logistic regression without intercept on
    +log(base) for one side and -log(base) for the other, each battle entered from both sides
    (so the fit never depends on which answer was shown as A), a tie counting as half a win
    each way."""
    from sklearn.linear_model import LogisticRegression

    index = {a: i for i, a in enumerate(agents)}
    rows, labels, weights = [], [], []
    for a, b, s, n in battles:
        for first, second, won in ((a, b, s), (b, a, 1 - s)):
            row = np.zeros(len(agents))
            row[index[first]], row[index[second]] = math.log(BASE), -math.log(BASE)
            for label, share in ((1, won), (0, 1 - won)):
                if share > 0:
                    rows.append(row)
                    labels.append(label)
                    weights.append(n * share)
    if len(set(labels)) < 2:  # no battle at all
        return np.full(len(agents), INIT_RATING)
    model = LogisticRegression(fit_intercept=False, C=1e6, tol=1e-6, max_iter=1000, solver=SOLVER)
    model.fit(np.array(rows), np.array(labels), sample_weight=np.array(weights))
    coef: np.ndarray = model.coef_[0]  # scikit-learn is unannotated
    return SCALE * coef + INIT_RATING


def style_controlled(pairs: Sequence[JudgedPair]) -> StyleFit:
    """Bradley-Terry with style covariates, as LMArena's style control: each battle (a tie half a
    win each way; both-bad left out, as in the raw fit) entered from both sides, with the
    normalised style differences of the two answers (z-scored) beside the agent columns."""
    from sklearn.linear_model import LogisticRegression

    result = {"A": 1.0, "B": 0.0, "tie": 0.5}
    judged = [p for p in pairs if p.outcome in result]
    agents = sorted({a for p in pairs for a in (p.agent_a, p.agent_b)})
    empty = StyleFit({a: Estimate(None, 0) for a in agents}, {})
    if not judged:
        return empty
    index, k, m = {a: i for i, a in enumerate(agents)}, len(agents), len(judged)
    diffs = style_differences([p.style_a for p in judged], [p.style_b for p in judged])
    spread = diffs.std(axis=0)
    side = np.zeros((m, k + len(STYLE_FEATURES)))
    rows = np.arange(m)
    side[rows, [index[p.agent_a] for p in judged]] = math.log(BASE)
    side[rows, [index[p.agent_b] for p in judged]] = -math.log(BASE)
    np.divide(diffs, spread, out=side[:, k:], where=spread > 0)
    s = np.array([result[p.outcome or ""] for p in judged])  # cached on each pair
    # A battle seen from B's side (the negated row, the other label) adds the same term to the
    # logistic loss as seen from A's, so each side is entered once at twice the weight: a win
    # or a loss as one row, a tie as half a win and half a loss. Mirrored only when every battle
    # went the same way (the fit needs both labels).
    tie = s == 0.5
    x = np.concatenate([side, side[tie]])
    y = np.concatenate([np.where(tie, 1, s), np.zeros(int(tie.sum()))]).astype(int)
    w = np.concatenate([np.where(tie, 1.0, 2.0), np.ones(int(tie.sum()))])
    if len(np.unique(y)) < 2:
        x, y, w = np.concatenate([x, -x]), np.concatenate([y, 1 - y]), np.concatenate([w, w]) / 2
    model = LogisticRegression(fit_intercept=False, C=1e6, tol=1e-8, max_iter=2000, solver=SOLVER)
    model.fit(x, y, sample_weight=w)
    coef: np.ndarray = model.coef_[0]
    fitted = 1 / (1 + np.exp(-(x @ coef)))
    hessian = (x * (w * fitted * (1 - fitted))[:, None]).T @ x
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(hessian)), 0, None))
    games = Counter(p.agent_a for p in judged) + Counter(p.agent_b for p in judged)

    def wald(value: float, error: float, n: int) -> Estimate:
        return Estimate(value, n, value - 1.96 * error, value + 1.96 * error)

    strengths = {
        agent: wald(SCALE * coef[i] + INIT_RATING, SCALE * se[i], games[agent])
        for agent, i in index.items()
    }
    effects = {
        name: wald(float(coef[k + j]), float(se[k + j]), m)
        for j, name in enumerate(STYLE_FEATURES)
        if spread[j] > 0
    }
    return StyleFit(strengths, effects)


def _win_rates(
    battles: Sequence[tuple[str, str, float, float]], agents: Sequence[str]
) -> np.ndarray:
    points, games = np.zeros(len(agents)), np.zeros(len(agents))
    index = {a: i for i, a in enumerate(agents)}
    for a, b, s, n in battles:
        points[index[a]] += s * n
        points[index[b]] += (1 - s) * n
        games[index[a]] += n
        games[index[b]] += n
    rates = np.full(len(agents), np.nan)
    np.divide(points, games, out=rates, where=games > 0)
    return rates


def _percentiles(draws: np.ndarray, column: int) -> tuple[float | None, float | None]:
    values = draws[:, column] if len(draws) else np.array([])
    values = values[~np.isnan(values)]
    if not len(values):
        return None, None
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def standings(
    pairs: Sequence[JudgedPair], *, seed: int = 0, styled: StyleFit | None = None
) -> list[AgentStanding]:
    """Each agent's win rate and Bradley-Terry strength with 95% intervals from the same
    ``BT_ROUNDS`` bootstrap resamples of the comparisons, strongest first, beside its
    style-controlled strength (``styled``: the fit of ``pairs`` if already made).

    Battles are counted by kind (agent A, agent B, result), so a bootstrap round resamples the
    counts (multinomially) instead of copying every battle.
    """
    battles = _battles(pairs)
    agents = sorted({a for p in pairs for a in (p.agent_a, p.agent_b)})
    if not agents:
        return []
    kinds = Counter(battles)
    keys, counts = list(kinds), np.array(list(kinds.values()), dtype=float)

    def expand(weights: np.ndarray) -> list[tuple[str, str, float, float]]:
        return [(a, b, s, n) for (a, b, s), n in zip(keys, weights, strict=True) if n > 0]

    ratings, rates = bradley_terry(expand(counts), agents), _win_rates(expand(counts), agents)
    rng = np.random.default_rng(seed)
    rating_draws, rate_draws = [], []
    total = int(counts.sum())
    for _ in range(BT_ROUNDS if total else 0):
        sample = expand(rng.multinomial(total, counts / total).astype(float))
        rating_draws.append(bradley_terry(sample, agents))
        rate_draws.append(_win_rates(sample, agents))
    styled_strengths = (styled or style_controlled(pairs)).strengths
    rating_array = np.array(rating_draws).reshape(-1, len(agents))
    rate_array = np.array(rate_draws).reshape(-1, len(agents))
    result = []
    for i, agent in enumerate(agents):
        games = int(sum(n for (a, b, _), n in kinds.items() if agent in (a, b)))
        rate = None if np.isnan(rates[i]) else float(rates[i])
        result.append(
            AgentStanding(
                agent,
                games,
                Estimate(rate, games, *_percentiles(rate_array, i)),
                Estimate(float(ratings[i]), games, *_percentiles(rating_array, i)),
                styled_strengths[agent],
            )
        )
    return sorted(result, key=lambda s: -(s.strength.value or 0))


@dataclass(frozen=True)
class VotingHabits:
    position_bias: Estimate  # share of A-or-B votes that went to whichever answer was shown as A
    tie_rate: Estimate  # share of all votes
    both_bad_rate: Estimate
    voter_agreement: Estimate  # Krippendorff's alpha (nominal), comparisons with 2+ voters
    votes: int


def voting_habits(pairs: Sequence[JudgedPair]) -> VotingHabits:
    counts = np.array([p.counts for p in pairs], dtype=float).reshape(-1, len(CHOICES))
    a, b, tie, both_bad = (int(v) for v in counts.sum(axis=0))
    total = a + b + tie + both_bad
    multi = counts[counts.sum(axis=1) >= 2]
    alpha = Estimate(None, len(multi))
    if len(multi) and np.count_nonzero(multi.sum(axis=0)) >= 2:
        import krippendorff

        value = krippendorff.alpha(value_counts=multi, level_of_measurement="nominal")
        alpha = Estimate(float(value), len(multi))
    return VotingHabits(
        position_bias=wilson(a, a + b),
        tie_rate=wilson(tie, total),
        both_bad_rate=wilson(both_bad, total),
        voter_agreement=alpha,
        votes=total,
    )
