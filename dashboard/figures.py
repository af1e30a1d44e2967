"""Charts of the evaluation page, built from rows of :mod:`dashboard.tables` (Vega-Lite through
Altair, which Streamlit draws). Pure: a chart is data, testable without Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from dashboard.tables import Row

# Where each figure would be by chance (the dashed line).
WIDTH = 720  # a faceted chart does not stretch to the page
CHANCE = {"accuracy": 50.0, "Kendall's tau-b": 0.0, "Spearman's rho": 0.0}


def over_time(points: Sequence[Row]) -> alt.FacetChart:
    """Accuracy (%), tau-b and rho per period, each with its 95% interval and chance line."""
    data = alt.InlineData(values=[{**p, "chance": CHANCE[p["figure"]]} for p in points])
    base = alt.Chart(data).encode(
        x=alt.X("period:T", title="period starting", axis=alt.Axis(format="%b %d"))
    )
    line = base.mark_line(point=True).encode(
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=["period:T", "figure:N", alt.Tooltip("value:Q", format=".3f"), "n:Q"],
    )
    interval = base.mark_rule().encode(y="low:Q", y2="high:Q")
    chance = alt.Chart(data).mark_rule(strokeDash=[4, 4], color="grey").encode(y="chance:Q")
    layered = alt.LayerChart(layer=[interval, line, chance], height=150, width=WIDTH)
    faceted = layered.facet(row=alt.Row("figure:N", title=None, sort=list(CHANCE)))
    resolved: alt.FacetChart = faceted.resolve_scale(y="independent")  # altair: untyped here
    return resolved


def leaderboard(points: Sequence[Row]) -> alt.LayerChart:
    """Each agent's Bradley-Terry strength with its 95% interval, strongest on top."""
    data = alt.InlineData(values=list(points))
    base = alt.Chart(data).encode(
        y=alt.Y("agent:N", sort=alt.EncodingSortField("strength", order="descending"), title=None)
    )
    interval = base.mark_rule().encode(
        x=alt.X("low:Q", title="Bradley-Terry strength", scale=alt.Scale(zero=False)), x2="high:Q"
    )
    point = base.mark_point(filled=True, size=80).encode(
        x="strength:Q",
        tooltip=["agent:N", alt.Tooltip("strength:Q", format=".0f"), "comparisons:Q"],
    )
    return alt.LayerChart(layer=[interval, point], height=40 * max(1, len(points)) + 40)
