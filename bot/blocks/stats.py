"""The ``/coderank stats`` summary: how much the team has judged and how the reranker fares."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from coderank.agents.prompts import LABELS
from coderank.evaluation.formatting import format_estimate, short, signals_text, too_few_pairs
from coderank.evaluation.report import EvalReport


def stats_message(report: EvalReport, counts: dict[str, int]) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of the summary over every closed comparison."""
    a = report.agreement
    models = ", ".join(f"`{m}`" for m in report.models) or "none yet"
    lines = [
        f"*Pairs judged:* {a.pairs} ({a.decisive} with a majority for A or B)",
        f"*Reranker accuracy:* {format_estimate(a.accuracy, as_percent=True)}",
        f"*Kendall's tau-b:* {format_estimate(a.kendall_tau)}",
        f"*Spearman's rho:* {format_estimate(a.spearman_rho)}",
        f"*Model used:* {models}",
    ]
    if signals := signals_text(report):
        lines.append(f"*Against the team, by signal:* {signals}")
    if report.standings:
        ranked = sorted(
            report.standings, key=lambda s: s.strength.value or float("-inf"), reverse=True
        )
        lines.append(
            "*Agents by strength:* "
            + ", ".join(
                f"{LABELS.get(s.agent, s.agent)} {format_estimate(s.win_rate, as_percent=True)} "
                f"(strength {short(s.strength, digits=0)}, style-controlled "
                f"{short(s.styled, digits=0)})"
                for s in ranked
            )
        )
    stored = " · ".join(f"{name}: {n:,}" for name, n in counts.items())
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="*CodeRank so far*\n" + "\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text=f"Stored: {stored}")]),
    ]
    if not a.enough_data:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f":warning: {too_few_pairs(a)}")])
        )
    accuracy = format_estimate(a.accuracy, as_percent=True)
    text = f"CodeRank so far: {a.pairs} pairs judged, accuracy {accuracy}"
    return text, [b.to_dict() for b in blocks]
