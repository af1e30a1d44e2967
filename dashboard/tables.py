"""Domain objects as the rows and lines the pages show. Pure: no Streamlit, testable alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from coderank.agents.prompts import LABELS
from coderank.evaluation.formatting import format_estimate, p_text, percent
from coderank.evaluation.preferences import AgentStanding, VotingHabits
from coderank.evaluation.voters import VoterChecks
from coderank.models import CHOICES, CLOSED, Answer, Comparison
from coderank.overview import PeriodAgreement, StoredVote

Row = dict[str, Any]

CHOICE_NAMES = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}


_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>#|~$"})


def plain(text: str) -> str:
    """``text`` shown as itself in Markdown (ids and paths have underscores; ``$`` starts LaTeX
    in Streamlit)."""
    return text.translate(_MARKDOWN)


def label(agent: str) -> str:
    return LABELS.get(agent, agent)


def short_text(text: str, *, most: int = 80) -> str:
    """One line of at most ``most`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= most else line[: most - 1] + "…"


def moment(iso: str | None) -> str:
    """A stored timestamp to the minute, as ``2026-11-20 10:00``."""
    return iso[:16].replace("T", " ") if iso else ""


def comparison_choice(c: Comparison) -> str:
    """How a comparison is named in a picker."""
    return f"{c.comparison_id} · {short_text(c.problem, most=60)} ({c.source}, {c.status})"


def where(c: Comparison) -> str:
    """The surface a comparison was asked on, and its Slack channel if any."""
    channel = c.surface.get("channel")
    return f"{c.source} #{channel}" if channel else c.source


def comparison_rows(comparisons: Iterable[Comparison]) -> list[Row]:
    """The table of comparisons: what was asked, where, where it is, and how it ended. Open ones
    show only how many voted (voting is blind until it closes)."""
    rows = []
    for c in comparisons:
        closed = c.status == CLOSED
        rows.append(
            {
                "created": moment(c.created_at),
                "comparison": c.comparison_id,
                "problem": short_text(c.problem),
                "source": where(c),
                "requester": c.requester,
                "status": c.status,
                "voters": c.voters,
                "outcome": (c.outcome or "no votes") if closed else "",
                "reranker agreed": _agreed(c.reranker_agrees) if closed else "",
            }
        )
    return rows


def _agreed(agrees: bool | None) -> str:
    return "n/a" if agrees is None else "yes" if agrees else "no"


def figure_rows(rows: Sequence[tuple[str, str]]) -> list[Row]:
    """``report_rows`` as table rows."""
    return [{"figure": name, "value": value} for name, value in rows]


def standing_rows(standings: Iterable[AgentStanding]) -> list[Row]:
    """The agent leaderboard, strongest first."""
    return [
        {
            "agent": label(s.agent),
            "comparisons": s.comparisons,
            "win rate": format_estimate(s.win_rate, as_percent=True),
            "Bradley-Terry": format_estimate(s.strength, digits=0),
            "style-controlled": format_estimate(s.styled, digits=0),
        }
        for s in standings
    ]


def habit_rows(habits: VotingHabits) -> list[Row]:
    """How the team votes."""
    return [
        {"habit": "position bias (votes for A)", "value": _pct(habits.position_bias)},
        {"habit": "tie rate", "value": _pct(habits.tie_rate)},
        {"habit": "both-bad rate", "value": _pct(habits.both_bad_rate)},
        {
            "habit": "voter agreement (Krippendorff's alpha)",
            "value": format_estimate(habits.voter_agreement),
        },
        {"habit": "votes", "value": str(habits.votes)},
    ]


def _pct(e: Any) -> str:
    return format_estimate(e, as_percent=True)


FIGURES = (("accuracy", 100.0), ("Kendall's tau-b", 1.0), ("Spearman's rho", 1.0))


def period_points(periods: Iterable[PeriodAgreement]) -> list[Row]:
    """One point per figure and period (accuracy in %), with its 95% interval where known; a
    period without the figure has no point."""
    points = []
    for p in periods:
        a = p.agreement
        for (name, scale), e in zip(
            FIGURES, (a.accuracy, a.kendall_tau, a.spearman_rho), strict=True
        ):
            if e.value is None:
                continue
            points.append(
                {
                    "period": p.since.isoformat(),
                    "figure": name,
                    "value": e.value * scale,
                    "low": None if e.low is None else e.low * scale,
                    "high": None if e.high is None else e.high * scale,
                    "n": e.n,
                }
            )
    return points


def standing_points(standings: Iterable[AgentStanding]) -> list[Row]:
    """Each agent's Bradley-Terry strength and its 95% interval."""
    return [
        {
            "agent": label(s.agent),
            "strength": s.strength.value,
            "low": s.strength.low,
            "high": s.strength.high,
            "comparisons": s.comparisons,
        }
        for s in standings
        if s.strength.value is not None
    ]


def tally_rows(c: Comparison) -> list[Row]:
    counts = c.counts
    return [{"vote": CHOICE_NAMES[choice], "votes": counts[choice]} for choice in CHOICES]


def vote_rows(votes: Iterable[StoredVote]) -> list[Row]:
    """Who voted what (shown to admins only)."""
    return [
        {"voter": v.user, "vote": CHOICE_NAMES.get(v.choice, v.choice), "at": moment(v.updated_at)}
        for v in votes
    ]


def voter_rows(checks: VoterChecks) -> list[Row]:
    """Every voter with their tests, the flagged ones first (shown to admins only)."""
    rows = []
    for r in sorted(checks.records, key=lambda r: not checks.anomalies[r.voter].flagged):
        a = checks.anomalies[r.voter]
        rows.append(
            {
                "voter": r.voter,
                "flagged": "yes" if a.flagged else "no",
                "votes": r.votes,
                "votes p (Fisher)": f"{p_text(a.p_value)} (n={a.votes_tested})",
                "position p": p_text(a.position_p),
                "shown-as-A share": _pct(r.position_bias),
                "agreement with the team": _pct(r.team_agreement),
                "gold agreement": _pct(r.gold_agreement),
            }
        )
    return rows


def reveal_lines(c: Comparison) -> list[str]:
    """What a closed comparison reveals, as the command line says it."""
    if c.pair is None:
        return [f"No pair was shown: {c.error or 'the comparison did not finish'}."]
    lines = [
        f"Answer {side} was written by {label(agent)} (reranker score {c.scores[agent]:.4f})"
        for side, agent in (("A", c.pair.a), ("B", c.pair.b))
    ]
    preferred = c.reranker_pick or "neither (equal scores)"
    lines.append(f"The reranker ({c.reranker_model}) preferred {preferred}.")
    agrees = c.reranker_agrees
    verdict = {None: "", True: " The reranker agreed.", False: " The reranker disagreed."}[agrees]
    lines.append(f"Outcome: {c.outcome or 'no votes'}.{verdict}")
    checks = c.checks_text()  # empty when the code was not run
    if checks:
        lines.append(f"Running the code: {checks}")
    lines.append(c.pick_text())
    return lines


def answer_parts(answer: Answer) -> tuple[str, str]:
    """(the code, the rest of the answer): the code is shown highlighted, the rest as text."""
    if not answer.code:
        return "", answer.text.strip()
    return answer.code, _without_fences(answer.text.replace(answer.code, "", 1))


def _without_fences(text: str) -> str:
    lines = [line for line in text.splitlines() if not line.strip().startswith("```")]
    return "\n".join(lines).strip()


def score_rows(c: Comparison) -> list[Row]:
    """Every answer's reranker score, highest first, and where it was shown."""
    shown = {c.pair.a: "A", c.pair.b: "B"} if c.pair else {}
    return [
        {"agent": label(agent), "score": round(score, 4), "shown as": shown.get(agent, "")}
        for agent, score in sorted(c.scores.items(), key=lambda kv: -kv[1])
    ]


def finetune_rows(runs: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Fine-tune runs (``evaluation_results`` of kind ``finetune``): pairs used, held-out
    accuracy before and after, promoted or not."""
    rows = []
    for run in runs:
        metrics = run.get("metrics") or {}
        pairs = metrics.get("pairs") or {}
        before = (metrics.get("before") or {}).get("accuracy")
        after = (metrics.get("after") or {}).get("accuracy")
        rows.append(
            {
                "when": moment(str(run.get("created_at") or "")),
                "by": run.get("by") or "",
                "pairs": pairs.get("total", run.get("exported")),
                "train / held out": f"{pairs.get('train', '?')} / {pairs.get('held_out', '?')}",
                "accuracy before": "n/a" if before is None else percent(before),
                "accuracy after": "n/a" if after is None else percent(after),
                "promoted": "yes" if run.get("promoted") else "no",
                "model": Path(str(metrics.get("model") or "")).name,  # in MODELS_DIR
                "reason": run.get("reason") or "",
            }
        )
    return rows
