"""Evaluation: how well the reranker agrees with the team's votes (accuracy, tau-b, rho, over
time with 95% intervals), the agent leaderboard and the voting habits, over the comparisons
closed in a date range, from one surface or channel. The same figures as
``scripts/evaluate_reranker.py`` for the same window; nothing is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import streamlit as st

from coderank.evaluation.formatting import format_estimate, report_rows, short, too_few_pairs
from coderank.evaluation.report import EvalReport, closed_between, evaluate, excluded_voters
from coderank.overview import agreement_by_period, from_surface, surface_choices
from coderank.store import Window
from dashboard import figures, widgets
from dashboard.context import Context
from dashboard.tables import (
    Row,
    figure_rows,
    habit_rows,
    period_points,
    standing_points,
    standing_rows,
)

ANY = "all"
Key = tuple[str, str | None, str | None]  # which comparisons (their fingerprint), the window


def _day(name: str) -> date | None:
    """A date given in the page's address (``?from=2026-11-01&to=2026-11-30``)."""
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return None


def render(ctx: Context) -> None:
    st.title("Evaluation")
    first, last, surface = st.columns(3)
    since = first.date_input("Closed from", value=_day("from"), format="YYYY-MM-DD")
    to = last.date_input("to (inclusive)", value=_day("to"), format="YYYY-MM-DD")
    since = since if isinstance(since, date) else None
    to = to if isinstance(to, date) else None
    until = to + timedelta(days=1) if to else None
    window = Window(since.isoformat() if since else None, until.isoformat() if until else None)
    without = excluded_voters(ctx.services.store, ctx.settings.flagged_voters)
    closed = list(closed_between(ctx.services.store, window, without=without))
    sources, channels = surface_choices(closed)
    picked = surface.selectbox(
        "Surface or channel",
        [ANY, *sources, *(f"#{c}" for c in channels)],
        format_func=lambda s: "every surface" if s == ANY else s,
    )
    chosen: list[Mapping[str, Any]] = list(closed)
    if picked == ANY:
        script = "python scripts/evaluate_reranker.py" + "".join(
            f" --{flag} {day}"
            for flag, day in (("since", window.since), ("until", window.until))
            if day
        )
        st.caption(f"The figures `{script}` prints (closed comparisons only; nothing is stored).")
    elif picked.startswith("#"):
        chosen = from_surface(closed, channel=picked[1:])
    else:
        chosen = from_surface(closed, source=picked)
    key = (fingerprint(chosen), window.since, window.until)
    report = _report(key, chosen)
    _headline(report)
    if not report.agreement.enough_data:
        st.warning(too_few_pairs(report.agreement))
    _over_time(key, chosen, since=since, until=until)
    _leaderboard(report)
    left, right = st.columns(2)
    with left:
        st.subheader("Voting habits")
        widgets.table(habit_rows(report.habits))
    with right:
        st.subheader("Every figure")
        widgets.table(figure_rows(report_rows(report)))


def fingerprint(closed: list[Mapping[str, Any]]) -> str:
    """Which comparisons these are, as they were last written: the same figures until a vote
    closes (the bootstraps take a second or two, and the page is drawn again on every click)."""
    digest = hashlib.sha256()
    for key in sorted(f"{d.get('_id')}|{d.get('closed_at')}|{d.get('updated_at')}" for d in closed):
        digest.update(key.encode() + b"\n")
    return digest.hexdigest()


@st.cache_data(max_entries=32, show_spinner="Computing the figures…")
def _report(key: Key, _closed: list[Mapping[str, Any]]) -> EvalReport:
    """``evaluate`` over ``_closed`` (not hashed: ``key`` names them)."""
    _, since, until = key
    return evaluate(_closed, since=since, until=until)


@st.cache_data(max_entries=32, show_spinner=False)
def _periods(
    key: Key,
    _closed: list[Mapping[str, Any]],
    since: date | None,
    until: date | None,
) -> list[Row]:
    return period_points(agreement_by_period(_closed, since=since, until=until))


def _headline(report: EvalReport) -> None:
    a = report.agreement
    cells = st.columns(4)
    cells[0].metric("Pairs judged", f"{a.pairs}")
    cells[0].caption(f"{a.decisive} with a majority for A or B")
    for cell, name, e, as_percent in (
        (cells[1], "Reranker accuracy", a.accuracy, True),
        (cells[2], "Kendall's tau-b", a.kendall_tau, False),
        (cells[3], "Spearman's rho", a.spearman_rho, False),
    ):
        cell.metric(name, short(e, as_percent=as_percent))
        cell.caption(f"95% interval and n: {format_estimate(e, as_percent=as_percent)}")


def _over_time(
    key: Key,
    closed: list[Mapping[str, Any]],
    *,
    since: date | None,
    until: date | None,
) -> None:
    st.subheader("Over time")
    points = _periods(key, closed, since, until)
    if not points:
        st.info("No closed comparison with votes in this range yet.")
        return
    st.caption("Each point: the comparisons closed that week; bars: 95% intervals.")
    st.altair_chart(figures.over_time(points), width="stretch")


def _leaderboard(report: EvalReport) -> None:
    st.subheader("Agents")
    if not report.standings:
        st.info("No agent has been judged in this range yet.")
        return
    left, right = st.columns([3, 2])
    with left:
        widgets.table(standing_rows(report.standings))
    right.altair_chart(figures.leaderboard(standing_points(report.standings)), width="stretch")
