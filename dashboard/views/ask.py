"""Ask and vote: type a problem, watch the agents, vote on A and B blind, change the vote, close,
and see the reveal. Any open comparison (asked in Slack or on the command line) is voted on here
by its id, through the same ``Comparisons`` as every surface."""

from __future__ import annotations

import streamlit as st

from coderank.config import MAX_PROBLEM_CHARS
from coderank.errors import CoderankError, InvalidProblemError, VotingClosedError
from coderank.models import (
    BY_ADMIN,
    BY_REQUESTER,
    CHOICES,
    FAILED,
    GENERATING,
    VOTING,
    Comparison,
)
from coderank.overview import recent_comparisons
from dashboard import voter, widgets
from dashboard.access import may_close
from dashboard.context import Context
from dashboard.tables import (
    CHOICE_NAMES,
    comparison_choice,
    label,
    moment,
    plain,
    reveal_lines,
    tally_rows,
    where,
)

CURRENT = "comparison"  # the session key and query parameter of the comparison shown
FLASH = "ask-flash"


def render(ctx: Context) -> None:
    st.title("Ask and vote")
    me = voter.ask()
    if me is None:
        return
    _flash()
    _ask_form(ctx, me)
    _pick(ctx)
    cid = _current()
    if cid:
        st.divider()
        _show(ctx, cid, me)


def _current() -> str | None:
    cid = st.session_state.get(CURRENT) or st.query_params.get(CURRENT)
    if cid:
        st.session_state[CURRENT] = cid
        st.query_params[CURRENT] = cid  # a link to this comparison, and a reload keeps it
    return cid or None


def _open(cid: str) -> None:
    st.session_state[CURRENT] = cid
    st.query_params[CURRENT] = cid


def _say(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text)


def _flash() -> None:
    said = st.session_state.pop(FLASH, None)
    if said is not None:
        kind, text = said
        {"success": st.success, "warning": st.warning, "error": st.error}[kind](text)


def _ask_form(ctx: Context, me: str) -> None:
    with st.form("ask"):
        problem = st.text_area(
            "A Python problem",
            placeholder="Write a function is_prime(n)",
            max_chars=MAX_PROBLEM_CHARS,
        )
        if st.form_submit_button("Ask the three agents", type="primary"):
            try:
                _open(ctx.asks.ask(problem, requester=me))
            except InvalidProblemError as exc:
                st.error(str(exc))


def _picked() -> None:
    cid = st.session_state.get("pick-open")
    if cid:
        _open(cid)


def _typed() -> None:
    cid = str(st.session_state.get("pick-id") or "").strip()
    if cid:
        _open(cid)


def _pick(ctx: Context) -> None:
    waiting = recent_comparisons(ctx.services.store, limit=30, status=VOTING)
    names = {c.comparison_id: comparison_choice(c) for c in waiting}
    left, right = st.columns([3, 2])
    left.selectbox(
        "Vote on an open comparison",
        options=list(names),
        format_func=lambda cid: names.get(cid, cid),
        index=None,
        placeholder=f"{len(names)} open, newest first",
        key="pick-open",
        on_change=_picked,
    )
    right.text_input("…or type its comparison id", key="pick-id", on_change=_typed)


@st.fragment(run_every=1.0)
def _watch(ctx: Context, cid: str) -> None:
    """Each agent's progress, polled until the pair is ready (then the whole page is drawn)."""
    progress = ctx.asks.progress(cid)
    if progress is None:  # asked elsewhere (Slack) and still generating there
        if ctx.services.comparisons.get(cid).status != GENERATING:
            st.rerun()
        st.info("Generating (asked on another surface): this page updates when it is ready.")
        return
    if progress.done:
        st.rerun()
    with st.status(f"Generating 3 answers: {progress.stage}", expanded=True):
        for line in progress.agents.values():
            st.write(line)


def _show(ctx: Context, cid: str, me: str) -> None:
    progress = ctx.asks.progress(cid)
    if progress is not None and not progress.done:
        st.markdown(f"**Problem** ({cid})")
        st.text(progress.problem)
        _watch(ctx, cid)
        return
    if progress is not None and progress.error:
        st.error(plain(progress.error))
    try:
        c = ctx.services.comparisons.get(cid)
    except CoderankError as exc:  # an unknown id; or the model never started: nothing stored
        if progress is None:
            st.warning(str(exc))
        return
    asked = f"{cid}, asked by {c.requester} on {where(c)}, {moment(c.created_at)}"
    st.markdown(f"**Problem** ({plain(asked)})")
    st.text(c.problem)
    if c.status == GENERATING:
        _watch(ctx, cid)
    elif c.status == FAILED:
        if progress is None:
            st.error(plain(c.error or "the comparison failed"))
    elif c.voting:
        _voting(ctx, c, me)
    else:
        _closed(c)


def _pair(c: Comparison, *, reveal: bool) -> None:
    for column, (side, answer) in zip(st.columns(2), c.shown().items(), strict=True):
        with column:
            title = f"Answer {side}"
            if reveal:
                title += f": {label(answer.agent)} (score {c.scores[answer.agent]:.4f})"
            st.markdown(f"#### {title}")
            widgets.answer(answer)


def _vote(ctx: Context, cid: str, me: str, choice: str) -> None:
    try:
        result = ctx.services.comparisons.vote(cid, user=me, choice=choice)
    except VotingClosedError:
        _say("warning", f"Voting on {cid} is closed: your vote was not counted.")
    except CoderankError as exc:
        _say("error", str(exc))
    else:
        note = "" if result.changed else " (unchanged)"
        _say("success", f"Your vote ({choice}) is recorded{note}; {result.voters} voter(s) so far.")


def _close(ctx: Context, c: Comparison, me: str) -> None:
    how = BY_REQUESTER if me == c.requester else BY_ADMIN
    try:
        ctx.services.comparisons.close(c.comparison_id, user=me, how=how)
    except VotingClosedError:
        _say("warning", f"Voting on {c.comparison_id} was already closed.")
    except CoderankError as exc:
        _say("error", str(exc))
    else:
        _say("success", "Voting closed.")


def _voting(ctx: Context, c: Comparison, me: str) -> None:
    st.subheader("Which answer is better?")
    _pair(c, reveal=False)
    if ctx.settings.checks_while_voting and c.checks:  # off by default: it steers the votes
        st.caption(f"Running the code: {c.checks_text()}")
    mine = c.votes.get(me)
    counted = f"{c.voters} voter(s) so far"
    if mine:
        counted += f"; your vote: {CHOICE_NAMES[mine]} (click another to change it)"
    if c.deadline:
        counted += f"; voting closes by itself at {moment(c.deadline)} UTC"
    st.caption(counted)
    for column, choice in zip(st.columns(len(CHOICES)), CHOICES, strict=True):
        column.button(
            CHOICE_NAMES[choice],
            key=f"vote-{choice}",
            type="primary" if mine == choice else "secondary",
            on_click=_vote,
            args=(ctx, c.comparison_id, me, choice),
            width="stretch",
        )
    if may_close(me, requester=c.requester, admins=ctx.dashboard.admins):
        st.button("Close voting and reveal", on_click=_close, args=(ctx, c, me))
    else:
        st.caption(f"{c.requester} (who asked) or an admin closes voting.")


def _closed(c: Comparison) -> None:
    st.subheader("Voting closed")
    _pair(c, reveal=True)
    widgets.lines(reveal_lines(c))
    widgets.table(tally_rows(c), stretch=False)
