"""The weekly digest message: this week's agreement with last week's beside it, the agents'
standings and the team's voting habits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.text import SECTION_LIMIT, cut, escape
from coderank.agents.prompts import LABELS
from coderank.evaluation.formatting import format_estimate, short, signals_text, too_few_pairs
from coderank.evaluation.metrics import Estimate
from coderank.evaluation.report import EvalReport
from coderank.evaluation.weekly import Digest, direction

HEADER = "CodeRank weekly digest"
ARROWS = {"up": "▲", "down": "▼", "same": "＝", "n/a": ""}
NO_VOTES = "No comparisons closed this week."


def _compared(this: Estimate, last: Estimate, *, percent: bool = False) -> str:
    """This week's figure, last week's value and an arrow (rounded as shown, so equal-looking
    values are ``＝``)."""
    arrow = ARROWS[direction(this, last, digits=3)]
    shown = (
        f"{format_estimate(this, as_percent=percent)} · last week {short(last, as_percent=percent)}"
    )
    return f"{shown} (n={last.n})" + (f" {arrow}" if arrow else "")


def _models(report: EvalReport) -> str:
    return ", ".join(f"`{escape(m)}` ({n} pairs)" for m, n in report.models.items()) or "none"


def _window(report: EvalReport) -> str:
    def day(text: str | None) -> str:
        return datetime.fromisoformat(text).strftime("%a %d %b %Y %H:%M") if text else "?"

    return (
        f"Comparisons closed from {day(report.since)} to {day(report.until)} UTC, compared with "
        "the week before."
    )


def _agreement_text(this: EvalReport, last: EvalReport) -> str:
    a, b = this.agreement, last.agreement
    pairs_arrow = ARROWS[direction(Estimate(a.pairs, a.pairs), Estimate(b.pairs, b.pairs))]
    lines = [
        "*Reranker vs the team*",
        f"*Accuracy:* {_compared(a.accuracy, b.accuracy, percent=True)}",
        f"*Kendall's tau-b:* {_compared(a.kendall_tau, b.kendall_tau)}",
        f"*Spearman's rho:* {_compared(a.spearman_rho, b.spearman_rho)}",
        f"*Pairs evaluated:* {a.pairs} ({a.decisive} decisive) · last week {b.pairs} "
        f"({b.decisive} decisive) {pairs_arrow}",
        f"*Model used:* {_models(this)} · last week {_models(last)}",
        "*Reweighted by 1/p(pair):* accuracy "
        f"{format_estimate(a.accuracy_weighted, as_percent=True)}, "
        f"Kendall's tau-b {format_estimate(a.kendall_tau_weighted)}",
    ]
    if signals := signals_text(this):
        lines.append(f"*By signal:* {signals}")
    return "\n".join(lines)


def leaderboard_text(report: EvalReport) -> str:
    """The agents by Bradley-Terry strength, with their win rates (the digest, the App Home)."""
    lines = ["*Leaderboard* (Bradley-Terry strength, raw and with style held equal; 95% intervals)"]
    for rank, s in enumerate(report.standings, start=1):
        name = LABELS.get(s.agent, escape(s.agent))
        lines.append(
            f"{rank}. *{name}*: strength {format_estimate(s.strength, digits=0)} · "
            f"style-controlled {format_estimate(s.styled, digits=0)} · "
            f"win rate {format_estimate(s.win_rate, as_percent=True)}"
        )
    return "\n".join(lines)


def _habits_text(report: EvalReport) -> str:
    h = report.habits
    return "\n".join(
        [
            f"*Voting habits* ({h.votes} votes)",
            f"Position bias (votes for A): {format_estimate(h.position_bias, as_percent=True)}",
            f"Tie rate: {format_estimate(h.tie_rate, as_percent=True)}",
            f"Both-bad rate: {format_estimate(h.both_bad_rate, as_percent=True)}",
            f"Voter agreement (Krippendorff's alpha): {format_estimate(h.voter_agreement)}",
        ]
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_LIMIT)[0]))


def digest_message(digest: Digest) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of the weekly digest."""
    this, last = digest.this_week, digest.last_week
    a = this.agreement
    blocks: list[Block] = [
        HeaderBlock(text=HEADER),
        ContextBlock(elements=[MarkdownTextObject(text=_window(this))]),
    ]
    if this.habits.votes == 0:
        b = last.agreement
        blocks.append(
            _section(
                f"*{NO_VOTES}*\nLast week: accuracy "
                f"{format_estimate(b.accuracy, as_percent=True)}, "
                f"Kendall's tau-b {format_estimate(b.kendall_tau)} over {b.pairs} pairs."
            )
        )
        return f"{HEADER}: {NO_VOTES.lower()}", [x.to_dict() for x in blocks]
    blocks.append(_section(_agreement_text(this, last)))
    if not a.enough_data:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f":warning: {too_few_pairs(a)}")])
        )
    blocks += [
        DividerBlock(),
        _section(leaderboard_text(this)),
        _section(_habits_text(this)),
    ]
    text = (
        f"{HEADER}: accuracy {short(a.accuracy, as_percent=True)} over {a.decisive} decisive "
        f"pairs, Kendall's tau-b {short(a.kendall_tau)}."
    )
    return text, [x.to_dict() for x in blocks]
