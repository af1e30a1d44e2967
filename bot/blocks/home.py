"""The App Home tab: a person's comparisons, votes and agreement with the team, their own figures
(after ``MIN_OWN_VOTES`` votes), the reranker in use with its figures, the agents' leaderboard,
and for admins the flagged voters, the fine-tunes and their button."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids, messages
from bot.blocks.digest import leaderboard_text
from bot.blocks.finetune import runs_text
from bot.blocks.text import SECTION_LIMIT, cut, escape
from coderank.evaluation.formatting import (
    format_estimate,
    own_rows,
    short,
    too_few_pairs,
    voters_text,
    votes_needed_text,
)
from coderank.evaluation.personal import OwnFigures
from coderank.evaluation.report import EvalReport
from coderank.evaluation.voters import FLAG_P, VoterChecks
from coderank.models import CLOSED, FAILED, VOTING, Comparison
from coderank.overview import UserOverview, UserVote

HEADER = "CodeRank"
PROBLEM_CHARS = 80  # a problem is shown on one line, cut to this many characters
FINETUNE_BUTTON = "Fine-tune the reranker now"
NO_VOTES = (
    "You have not voted yet. Vote on a comparison in a channel (anyone can start one with "
    "`/coderank <a Python problem>`) and your figures appear here."
)
NOTHING_ASKED = "You have not asked for a comparison yet: `/coderank <a Python problem>`."
_SPACES = re.compile(r"\s+")


def one_line(problem: str, limit: int = PROBLEM_CHARS) -> str:
    """A problem on one line, cut to ``limit`` characters, escaped for mrkdwn."""
    flat = _SPACES.sub(" ", problem).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return escape(flat)


def _where(c: Comparison) -> str:
    channel = c.surface.get("channel")
    return f"<#{channel}>" if channel else f"from {escape(c.source or 'elsewhere')}"


def state_text(c: Comparison) -> str:
    """Where a comparison is: generating, voting (how many votes), closed (the outcome and
    whether the reranker agreed), or failed."""
    if c.status == VOTING:
        return f"voting, {c.voters} vote{'s' if c.voters != 1 else ''} so far"
    if c.status == FAILED:
        return "failed"
    if c.status != CLOSED:
        return "generating"
    if c.outcome is None:
        return "closed without votes"
    text = f"closed, majority {messages.CHOICE_LABELS[c.outcome]}"
    agrees = c.reranker_agrees
    if agrees is not None:
        text += ", the reranker agreed" if agrees else ", the reranker disagreed"
    return text


def _asked_line(c: Comparison) -> str:
    return f"• “{one_line(c.problem)}” · {c.created_at[:10]} in {_where(c)} · {state_text(c)}"


def _vote_line(v: UserVote) -> str:
    c = v.comparison
    mark = {True: " :white_check_mark:", False: " :x:", None: ""}[v.agreed]
    alone = " (you alone)" if c.status == CLOSED and c.voters == 1 else ""
    return (
        f"• “{one_line(c.problem)}” · you: *{messages.CHOICE_LABELS.get(v.choice, v.choice)}* · "
        f"{state_text(c)}{mark}{alone}"
    )


def _section(text: str, block_id: str) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=cut(text, SECTION_LIMIT)[0]), block_id=block_id
    )


def _context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)], block_id=block_id)


def agreement_text(overview: UserOverview) -> str:
    """How often the person's vote was the team's majority, over closed comparisons."""
    if overview.voted_total == 0:
        return NO_VOTES
    a = overview.agreement
    if a.n == 0:
        text = (
            "None of the comparisons you voted on has closed with other voters yet: your "
            "agreement with the team shows once one has."
        )
    else:
        text = (
            f"You agreed with the team's majority on *{overview.agreed} of {a.n}* closed "
            f"comparisons others voted on too: {format_estimate(a, as_percent=True)}"
        )
    if overview.alone:
        text += (
            f"\n{overview.alone} closed comparison{'s' if overview.alone != 1 else ''} you "
            f"judged alone {'are' if overview.alone != 1 else 'is'} not counted."
        )
    return "*Agreement with the team*\n" + text


def own_text(own: OwnFigures, report: EvalReport) -> str:
    """The person's own agreement with the team and with the reranker, and their position bias
    (beside the team's); below ``MIN_OWN_VOTES`` votes on closed comparisons, how many more
    are needed."""
    if own.needed:
        return f"*Your own figures*\n{votes_needed_text(own)}"
    lines = [f"• {name[0].upper()}{name[1:]}: {value}" for name, value in own_rows(own)]
    team = short(report.habits.position_bias, as_percent=True)
    return "\n".join(
        [
            f"*Your own figures* (your {own.votes} votes on closed comparisons; only you see them)",
            *lines,
            f"The team's position bias: {team}.",
        ]
    )


def flagged_text(checks: VoterChecks) -> str:
    """The flagged voters with their tests (admins only: it shows one person's votes)."""
    flagged = [r for r in checks.records if checks.anomalies[r.voter].flagged]
    head = (
        f"*Flagged voters* (admins; {len(flagged)} of {len(checks.records)} voters; votes p: "
        "each vote against the others' on the same comparison, Fisher's method; position p: "
        f"A share against the team's; flagged below {FLAG_P:g})"
    )
    body = voters_text(flagged, checks.anomalies) if flagged else "No voter is flagged."
    return f"{head}\n{body}\n`/coderank-admin voters` lists every voter."


def reranker_text(model: str, report: EvalReport) -> str:
    """The reranker in use and its figures over every closed comparison."""
    a = report.agreement
    used = ", ".join(f"`{escape(m)}` ({n})" for m, n in report.models.items()) or "none yet"
    return "\n".join(
        [
            f"*Reranker in use:* `{escape(model)}`",
            f"*Pairs judged:* {a.pairs} ({a.decisive} with a majority for A or B); "
            f"scored by {used}",
            f"*Accuracy:* {format_estimate(a.accuracy, as_percent=True)}",
            f"*Kendall's tau-b:* {format_estimate(a.kendall_tau)}",
            f"*Spearman's rho:* {format_estimate(a.spearman_rho)}",
        ]
    )


def _runs_blocks(runs: list[dict[str, Any]]) -> list[Block]:
    button = ButtonElement(
        text=FINETUNE_BUTTON,
        action_id=ids.HOME_FINETUNE,
        value="finetune",
        style="primary",
        confirm=ConfirmObject(
            title="Fine-tune the reranker?",
            text=(
                "It trains a copy of the reranker in use on every comparison whose majority "
                "chose A or B, and promotes it only if it is better on held-out pairs."
            ),
            confirm="Start",
            deny="Cancel",
        ),
    )
    return [
        DividerBlock(),
        _section("*Fine-tunes* (admins)\n" + runs_text(runs), ids.BLOCK_HOME_RUNS),
        ActionsBlock(elements=[button], block_id=ids.BLOCK_HOME_ADMIN),
        _context(
            "One fine-tune at a time, as `/coderank-admin finetune`; its progress and result "
            "come to you in a direct message."
        ),
    ]


def home_view(
    overview: UserOverview,
    *,
    reranker: str,
    report: EvalReport,
    updated: str,
    own: OwnFigures | None = None,
    runs: list[dict[str, Any]] | None = None,
    voters: VoterChecks | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """The Home tab of ``overview.user``; ``own``: their own figures. Only for an admin:
    ``voters`` (every voter's tests; the flagged ones are shown) and ``runs`` (the last
    fine-tunes, with the button that starts one). ``notice``: what their last click did."""
    blocks: list[Block] = [HeaderBlock(text=HEADER)]
    if notice:
        blocks.append(_section(notice, ids.BLOCK_HOME_NOTICE))
    asked = [_asked_line(c) for c in overview.asked]
    votes = [_vote_line(v) for v in overview.votes]
    blocks += [
        _section(
            f"*Your recent comparisons* ({overview.asked_total} asked)\n"
            + ("\n".join(asked) or NOTHING_ASKED),
            ids.BLOCK_HOME_ASKED,
        ),
        _section(
            f"*Your recent votes* ({overview.voted_total} in all)\n"
            + ("\n".join(votes) or "None yet."),
            ids.BLOCK_HOME_VOTES,
        ),
    ]
    if own is None or own.needed:  # from MIN_OWN_VOTES on, their own figures say it, with more
        blocks.append(_section(agreement_text(overview), ids.BLOCK_HOME_AGREEMENT))
    if own is not None:
        blocks.append(_section(own_text(own, report), ids.BLOCK_HOME_OWN))
    blocks += [
        DividerBlock(),
        _section(reranker_text(reranker, report), ids.BLOCK_HOME_RERANKER),
    ]
    if not report.agreement.enough_data:
        blocks.append(_context(f":warning: {too_few_pairs(report.agreement)}"))
    board = (
        leaderboard_text(report)
        if report.standings
        else "*Leaderboard*\nNo comparison has closed with a majority yet."
    )
    blocks.append(_section(board, ids.BLOCK_HOME_LEADERBOARD))
    if voters is not None:
        blocks += [DividerBlock(), _section(flagged_text(voters), ids.BLOCK_HOME_VOTERS)]
    if runs is not None:
        blocks += _runs_blocks(runs)
    blocks.append(_context(f"Updated {updated} UTC. Every figure counts closed comparisons only."))
    return View(type="home", callback_id=ids.HOME_VIEW, blocks=blocks).to_dict()
