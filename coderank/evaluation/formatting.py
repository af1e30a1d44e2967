"""Figures as text, the same everywhere: the report table, Slack, the digest, the dashboard."""

from __future__ import annotations

from collections.abc import Mapping

from coderank.evaluation.metrics import MIN_DECISIVE, Agreement, Estimate
from coderank.evaluation.personal import MIN_OWN_VOTES, OwnFigures
from coderank.evaluation.report import EvalReport
from coderank.evaluation.voters import Anomaly, VoterRecord


def percent(value: float, *, digits: int = 1) -> str:
    """A share as a percentage: ``0.625`` -> ``62.5%``."""
    return f"{value * 100:.{digits}f}%"


def too_few_pairs(a: Agreement) -> str:
    """Why figures over ``a``'s pairs cannot yet tell the reranker from chance (shown in every
    report while ``a.enough_data`` is False)."""
    return (
        f"Only {a.decisive} decisive pairs: too few to tell a reranker that is right 60% of the "
        f"time from chance (50%); about {MIN_DECISIVE} are needed."
    )


def short(e: Estimate, *, as_percent: bool = False, digits: int = 3) -> str:
    """The value alone: ``62.5%`` or ``0.412``; ``n/a`` when there is none."""
    if e.value is None:
        return "n/a"
    return percent(e.value) if as_percent else f"{e.value:.{digits}f}"


def format_estimate(e: Estimate, *, as_percent: bool = False, digits: int = 3) -> str:
    """The value, its 95% interval and its n: ``62.5% [55.1, 69.4] (n=160)``."""
    if e.value is None:
        return f"n/a (n={e.n})"
    if e.low is None or e.high is None:
        interval = ""
    elif as_percent:
        interval = f" [{e.low * 100:.1f}, {e.high * 100:.1f}]"
    else:
        interval = f" [{e.low:.{digits}f}, {e.high:.{digits}f}]"
    return f"{short(e, as_percent=as_percent, digits=digits)}{interval} (n={e.n})"


SIGNAL_NAMES = {"reranker": "reranker", "execution": "execution alone", "combined": "combined"}


def signals_text(report: EvalReport) -> str:
    """The three signals' accuracy side by side, one line ("" when nothing was run)."""
    return " · ".join(
        f"{SIGNAL_NAMES[name]} {format_estimate(e, as_percent=True)}"
        for name, e in report.signals.items()
    )


def report_rows(report: EvalReport) -> list[tuple[str, str]]:
    """The report's figures as (name, value) rows: the lines of :func:`format_report`, which the
    dashboard shows as a table."""
    a = report.agreement
    window = f"{report.since or 'the start'} to {report.until or 'now'}"
    models = ", ".join(f"{m} ({n})" for m, n in report.models.items()) or "none"
    rows = [
        ("window", window),
        ("model used", models),
        ("pairs evaluated", f"{a.pairs} ({a.decisive} decisive)"),
        ("accuracy", format_estimate(a.accuracy, as_percent=True)),
        ("accuracy (bootstrap interval)", format_estimate(a.accuracy_bootstrap, as_percent=True)),
        (
            "accuracy, reweighted by 1/p(pair)",
            format_estimate(a.accuracy_weighted, as_percent=True),
        ),
        ("Kendall's tau-b", format_estimate(a.kendall_tau)),
        ("Kendall's tau-b, reweighted", format_estimate(a.kendall_tau_weighted)),
        ("Spearman's rho", format_estimate(a.spearman_rho)),
        (
            "position bias (votes for A)",
            format_estimate(report.habits.position_bias, as_percent=True),
        ),
        ("tie rate", format_estimate(report.habits.tie_rate, as_percent=True)),
        ("both-bad rate", format_estimate(report.habits.both_bad_rate, as_percent=True)),
        ("voter agreement (Krippendorff's alpha)", format_estimate(report.habits.voter_agreement)),
    ]
    for name, estimate in report.signals.items():
        rows.append((f"accuracy, {SIGNAL_NAMES[name]}", format_estimate(estimate, as_percent=True)))
    for s in report.standings:
        rows.append((f"agent {s.agent}: win rate", format_estimate(s.win_rate, as_percent=True)))
        rows.append((f"agent {s.agent}: Bradley-Terry", format_estimate(s.strength, digits=0)))
        rows.append(
            (
                f"agent {s.agent}: Bradley-Terry, style-controlled",
                format_estimate(s.styled, digits=0),
            )
        )
    for name, effect in report.style_effects.items():
        rows.append((f"style effect: {name} (log-odds per SD)", format_estimate(effect, digits=2)))
    return rows


def format_report(report: EvalReport) -> str:
    """The report as a plain-text table (what ``scripts/evaluate_reranker.py`` prints)."""
    a = report.agreement
    rows = report_rows(report)
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if not a.enough_data:
        lines.append(f"warning: {too_few_pairs(a)}")
    return "\n".join(lines)


def p_text(p: float | None) -> str:
    """A test's p-value to two significant digits (``n/a``: no test)."""
    return "n/a" if p is None else f"{p:.2g}"


def voters_text(records: list[VoterRecord], found: Mapping[str, Anomaly] | None = None) -> str:
    """One line per voter: votes, agreement with the gold comparisons, position bias and, with
    ``found``, the anomalous-voter tests (flagged voters first)."""
    if not records:
        return "No votes on closed comparisons yet."
    found = found or {}

    def tests(voter: str) -> str:
        a = found.get(voter)
        if a is None:
            return ""
        flag = ":warning: *flagged* · " if a.flagged else ""
        return (
            f" · {flag}votes p={p_text(a.p_value)} (n={a.votes_tested}), "
            f"position p={p_text(a.position_p)}"
        )

    ordered = sorted(records, key=lambda r: not (r.voter in found and found[r.voter].flagged))
    return "\n".join(
        f"{r.voter}: {r.votes} votes · gold {r.gold_for} for, {r.gold_against} against "
        f"(agreement {format_estimate(r.gold_agreement, as_percent=True)}) · "
        f"shown-as-A share {format_estimate(r.position_bias, as_percent=True)}{tests(r.voter)}"
        for r in ordered
    )


def own_rows(own: OwnFigures) -> list[tuple[str, str]]:
    """A voter's own figures as (name, value) rows: the App Home's lines, the dashboard's."""
    return [
        (
            "agreement with the team's majority (comparisons others voted on too)",
            format_estimate(own.team, as_percent=True),
        ),
        (
            "agreement with the reranker (A-or-B votes for the answer it scored higher)",
            format_estimate(own.reranker, as_percent=True),
        ),
        (
            "position bias (A-or-B votes for the answer shown as A)",
            format_estimate(own.position_bias, as_percent=True),
        ),
    ]


def votes_needed_text(own: OwnFigures) -> str:
    """What a voter with fewer than ``MIN_OWN_VOTES`` votes is told instead of their figures."""
    more = f"{own.needed} more vote{'s' if own.needed != 1 else ''}"
    return (
        "Your agreement with the team's majority and with the reranker, and your position bias, "
        f"show after {MIN_OWN_VOTES} votes on closed comparisons: {more} to go "
        f"({own.votes} so far)."
    )
