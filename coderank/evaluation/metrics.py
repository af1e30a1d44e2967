"""Agreement between the reranker and the humans: pure functions over judged pairs.

Kendall's tau is tau-b over every pair with a preference (A = +1, B = -1, tie = 0), since without
ties it would just be ``2 * accuracy - 1``. Intervals are 95%: Wilson for accuracy, Fisher's z for
Spearman's rho, and a Poisson bootstrap for accuracy and tau (plain and reweighted by the inverse
of each pair's selection probability).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from coderank.evaluation.pairs import JudgedPair

Z95 = 1.959963984540054
# Decisive pairs needed before a 95% interval is +-5 points wide: below this a 60% reranker cannot
# be told from chance (50%).
MIN_DECISIVE = math.ceil(Z95**2 * 0.25 / 0.05**2)  # 385
BOOTSTRAP_ROUNDS = 200
BOOTSTRAP_CAP = 50_000


@dataclass(frozen=True)
class Estimate:
    """A figure with its sample size and 95% interval (``None`` when it cannot be computed)."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None


def wilson(successes: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(None, 0)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return Estimate(successes / n, n, float(ci.low), float(ci.high))


@dataclass(frozen=True)
class _TauLayout:
    """What tau-b needs of ``x`` and ``y``, computed once for many weightings."""

    inverse: np.ndarray  # each item's group of equal x, in x order
    groups: int
    levels: dict[int, np.ndarray]  # y level -> mask


def _layout(x: np.ndarray, y: np.ndarray) -> _TauLayout:
    groups, inverse = np.unique(x, return_inverse=True)
    return _TauLayout(inverse, len(groups), {level: y == level for level in (-1, 0, 1)})


def _tau(layout: _TauLayout, w: np.ndarray) -> float | None:
    # Products summed with numpy, not np.dot: a threaded BLAS call on vectors this short costs
    # far more than it saves when other processes hold the cores (400 calls per agreement).
    per_level = {
        level: np.bincount(layout.inverse, weights=np.where(mask, w, 0.0), minlength=layout.groups)
        for level, mask in layout.levels.items()
    }
    numerator = 0.0
    for hi, lo in ((1, 0), (1, -1), (0, -1)):
        cumulative = np.cumsum(per_level[lo])
        below = cumulative - per_level[lo]
        above = per_level[lo].sum() - cumulative
        numerator += float((per_level[hi] * (below - above)).sum())
    total = float(w.sum())
    by_group = per_level[-1] + per_level[0] + per_level[1]
    untied_x = (total**2 - float((by_group * by_group).sum())) / 2
    untied_y = (total**2 - sum(float(v.sum()) ** 2 for v in per_level.values())) / 2
    if untied_x <= 0 or untied_y <= 0:
        return None
    return numerator / math.sqrt(untied_x * untied_y)


def weighted_tau_b(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float | None:
    """Kendall's tau-b with pair weights ``w_i * w_j``, for ``y`` in {-1, 0, 1}; O(n log n).

    With all weights 1 it equals ``scipy.stats.kendalltau(x, y)`` (tau-b).
    """
    if len(x) < 2:
        return None
    return _tau(_layout(x, y), w)


def _weighted_accuracy(right: np.ndarray, w: np.ndarray) -> float | None:
    total = float(w.sum())
    return float((right * w).sum()) / total if total > 0 else None


def _interval(draws: list[float | None]) -> tuple[float | None, float | None]:
    values = [d for d in draws if d is not None]
    if not values:
        return None, None
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


@dataclass(frozen=True)
class Agreement:
    """How well the reranker agrees with the humans over a set of pairs."""

    accuracy: Estimate  # Wilson interval
    accuracy_bootstrap: Estimate
    accuracy_weighted: Estimate  # inverse selection probability, bootstrap interval
    kendall_tau: Estimate  # tau-b incl. ties, bootstrap interval
    kendall_tau_weighted: Estimate
    spearman_rho: Estimate  # Fisher z interval
    pairs: int  # pairs with a preference (A, B or tie)
    decisive: int  # pairs with a majority for A or B
    enough_data: bool


def _sub(n: int, rng: np.random.Generator) -> np.ndarray:
    return (
        np.sort(rng.choice(n, BOOTSTRAP_CAP, replace=False)) if n > BOOTSTRAP_CAP else np.arange(n)
    )


def _scaled(
    draws: list[float | None], at_sub: float | None, at_full: float | None, m: int, n: int
) -> tuple[float | None, float | None]:
    """The percentile interval of ``draws`` (taken on ``m`` of ``n`` pairs), moved to the full
    estimate and narrowed by sqrt(m / n): the m-out-of-n bootstrap."""
    low, high = _interval(draws)
    if low is None or high is None or at_sub is None or at_full is None:
        return None, None
    scale = math.sqrt(m / n)
    return at_full + (low - at_sub) * scale, at_full + (high - at_sub) * scale


def agreement(pairs: Sequence[JudgedPair], *, seed: int = 0) -> Agreement:
    """The agreement figures. Bootstrap intervals use ``BOOTSTRAP_ROUNDS`` Poisson rounds over at
    most ``BOOTSTRAP_CAP`` pairs (scaled to the full sample above that), so a million votes
    evaluate in seconds."""
    judged = [p for p in pairs if p.preference is not None]
    decisive = [p for p in judged if p.decisive]
    right = np.array([p.reranker_right for p in decisive], dtype=float)
    w_dec = np.array([p.weight for p in decisive], dtype=float)
    x = np.array([p.score_diff for p in judged], dtype=float)
    y = np.array([p.preference for p in judged], dtype=int)
    w = np.array([p.weight for p in judged], dtype=float)
    n, n_dec = len(judged), len(decisive)

    rng = np.random.default_rng(seed)
    sub, sub_dec = _sub(n, rng), _sub(n_dec, rng)
    xs, ys, ws, rs, wds = x[sub], y[sub], w[sub], right[sub_dec], w_dec[sub_dec]
    layout = _layout(xs, ys) if n >= 2 else None
    boot: dict[str, list[float | None]] = {"acc": [], "acc_w": [], "tau": [], "tau_w": []}
    for _ in range(BOOTSTRAP_ROUNDS if layout is not None else 0):
        k_dec = rng.poisson(1.0, len(sub_dec)).astype(float)
        k = rng.poisson(1.0, len(sub)).astype(float)
        boot["acc"].append(_weighted_accuracy(rs, k_dec))
        boot["acc_w"].append(_weighted_accuracy(rs, k_dec * wds))
        assert layout is not None
        boot["tau"].append(_tau(layout, k))
        boot["tau_w"].append(_tau(layout, k * ws))

    ones = np.ones(n)
    tau, tau_w = weighted_tau_b(x, y, ones), weighted_tau_b(x, y, w)
    tau_sub = weighted_tau_b(xs, ys, np.ones(len(sub)))
    tau_w_sub = weighted_tau_b(xs, ys, ws)
    acc = float(right.mean()) if n_dec else None
    acc_w = _weighted_accuracy(right, w_dec) if n_dec else None
    acc_sub = float(rs.mean()) if n_dec else None
    acc_w_sub = _weighted_accuracy(rs, wds) if n_dec else None
    m, m_dec = len(sub), len(sub_dec)

    rho_value: float | None = None
    rho_low = rho_high = None
    if n >= 4 and len(np.unique(x)) > 1 and len(np.unique(y)) > 1:
        rho_value = float(stats.spearmanr(x, y).statistic)
        if abs(rho_value) < 1:
            z, se = math.atanh(rho_value), 1 / math.sqrt(n - 3)
            rho_low, rho_high = math.tanh(z - Z95 * se), math.tanh(z + Z95 * se)
    return Agreement(
        accuracy=wilson(int(right.sum()), n_dec),
        accuracy_bootstrap=Estimate(acc, n_dec, *_scaled(boot["acc"], acc_sub, acc, m_dec, n_dec)),
        accuracy_weighted=Estimate(
            acc_w, n_dec, *_scaled(boot["acc_w"], acc_w_sub, acc_w, m_dec, n_dec)
        ),
        kendall_tau=Estimate(tau, n, *_scaled(boot["tau"], tau_sub, tau, m, n)),
        kendall_tau_weighted=Estimate(tau_w, n, *_scaled(boot["tau_w"], tau_w_sub, tau_w, m, n)),
        spearman_rho=Estimate(rho_value, n, rho_low, rho_high),
        pairs=n,
        decisive=n_dec,
        enough_data=n_dec >= MIN_DECISIVE,
    )
