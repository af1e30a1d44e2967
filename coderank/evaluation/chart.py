"""The digest's chart: accuracy and Kendall's tau-b per week with 95% intervals, as a PNG.

The only module that imports matplotlib. It draws on a ``Figure`` with the Agg canvas directly,
so no pyplot state or global backend is touched.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coderank.evaluation.metrics import Estimate
from coderank.evaluation.weekly import WeekPoint

NAN = math.nan


def _series(
    estimates: Sequence[Estimate], scale: float
) -> tuple[list[float], list[int], list[float], list[float], list[float]]:
    """Values (NaN for a week without data, so the line has a gap) and, for the weeks with an
    interval, their positions, values and distances to the interval's ends."""
    values = [NAN if e.value is None else e.value * scale for e in estimates]
    xs, ys, below, above = [], [], [], []
    for i, e in enumerate(estimates):
        if e.value is not None and e.low is not None and e.high is not None:
            xs.append(i)
            ys.append(e.value * scale)
            below.append(max(0.0, (e.value - e.low) * scale))
            above.append(max(0.0, (e.high - e.value) * scale))
    return values, xs, ys, below, above


def _panel(
    ax: Axes,
    estimates: Sequence[Estimate],
    *,
    label: str,
    color: str,
    scale: float,
    chance: float,
    chance_label: str,
    limits: tuple[float, float],
    ylabel: str,
) -> None:
    values, xs, ys, below, above = _series(estimates, scale)
    positions = list(range(len(estimates)))
    ax.plot(positions, values, marker="o", color=color, label=label)
    if xs:
        ax.errorbar(
            xs, ys, yerr=[below, above], fmt="none", ecolor=color, capsize=4, alpha=0.7,
            label="95% interval",
        )  # fmt: skip
    ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label=chance_label)
    ax.set_ylim(*limits)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def history_chart(history: Sequence[WeekPoint]) -> bytes:
    """A PNG of accuracy and Kendall's tau-b per week (oldest first) with their 95% intervals;
    weeks without votes are gaps."""
    figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    _panel(
        top,
        [w.accuracy for w in history],
        label="accuracy",
        color="tab:blue",
        scale=100,
        chance=50,
        chance_label="chance (50%)",
        limits=(0, 100),
        ylabel="accuracy (%)",
    )
    _panel(
        bottom,
        [w.kendall_tau for w in history],
        label="Kendall's tau-b",
        color="tab:orange",
        scale=1,
        chance=0,
        chance_label="no agreement (0)",
        limits=(-1, 1),
        ylabel="Kendall's tau-b",
    )
    bottom.set_xticks(
        list(range(len(history))),
        [f"{w.start:%b %d}\nn={w.decisive}" for w in history],
    )
    bottom.set_xlabel("week starting (n = decisive pairs)")
    if history:
        bottom.set_xlim(-0.5, len(history) - 0.5)
    if not any(w.pairs for w in history):
        top.text(0.5, 0.75, "no votes", transform=top.transAxes, ha="center", va="center")
    figure.suptitle("CodeRank reranker vs the team's votes, per week")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
