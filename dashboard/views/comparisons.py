"""Comparisons: the recent ones in a table; one opened shows its problem, all three answers,
their scores, the votes (who voted what to admins only) and the outcome. Open comparisons stay
blind here too: their answers and scores show once voting closes."""

from __future__ import annotations

import streamlit as st

from coderank.models import CLOSED, GENERATING, STATUSES, VOTING
from coderank.overview import StoredComparison, recent_comparisons, stored_comparison
from dashboard import voter, widgets
from dashboard.context import Context
from dashboard.tables import (
    comparison_choice,
    comparison_rows,
    label,
    moment,
    plain,
    reveal_lines,
    score_rows,
    tally_rows,
    vote_rows,
    where,
)

OPENED = "id"  # the query parameter of the comparison opened
PICKED = "comparisons-open"
ANY = "all"
LIMIT = 200


def render(ctx: Context) -> None:
    st.title("Comparisons")
    status = st.segmented_control("Status", [ANY, *STATUSES], default=ANY, key="comparisons-status")
    recent = recent_comparisons(
        ctx.services.store, limit=LIMIT, status=None if status in (None, ANY) else status
    )
    if not recent:
        st.info("No comparison yet: ask one on Ask and vote, in Slack, or with `make demo`.")
        return
    st.dataframe(comparison_rows(recent), hide_index=True, width="stretch")
    names = {c.comparison_id: comparison_choice(c) for c in recent}
    wanted = st.query_params.get(OPENED)
    if wanted and wanted not in names:
        names = {wanted: wanted, **names}
    if wanted and PICKED not in st.session_state:  # opened from a link
        st.session_state[PICKED] = wanted
    cid = st.selectbox(
        "Open a comparison",
        list(names),
        index=None,
        format_func=lambda c: names.get(c, c),
        placeholder="choose one (newest first)",
        key=PICKED,
    )
    if not cid:
        return
    st.query_params[OPENED] = cid
    detail = stored_comparison(ctx.services.store, cid)
    if detail is None:
        st.warning(f"No comparison {cid!r} in the store.")
        return
    _detail(ctx, detail)


def _detail(ctx: Context, detail: StoredComparison) -> None:
    c = detail.comparison
    st.subheader(f"Comparison {c.comparison_id}")
    facts = f"asked by {c.requester} on {where(c)}, {moment(c.created_at)}; status {c.status}" + (
        f", closed {moment(c.closed_at)} ({c.closed_how or 'by hand'})" if c.closed_at else ""
    )
    st.caption(plain(facts))
    st.text(c.problem)
    if c.status in (GENERATING, VOTING):  # blind until it closes, as in Slack
        st.info(
            f"Voting is open or about to be ({c.voters} voter(s) so far): the answers, scores "
            "and votes are shown once it closes. Vote on it on the Ask and vote page."
        )
        return
    if c.error:
        st.error(plain(c.error))
    if c.answers:
        shown = {c.pair.a: "A", c.pair.b: "B"} if c.pair else {}
        tabs = st.tabs(
            [
                label(a.agent) + (f" (shown as {shown[a.agent]})" if a.agent in shown else "")
                for a in c.answers
            ]
        )
        for tab, answer in zip(tabs, c.answers, strict=True):
            with tab:
                if answer.error:
                    st.error(plain(f"{label(answer.agent)} failed: {answer.error}"))
                widgets.answer(answer)
    if c.scores:
        model = f" ({plain(c.reranker_model)})" if c.reranker_model else ""
        st.markdown(f"**Reranker scores**{model}")
        widgets.table(score_rows(c), stretch=False)
    if c.status == CLOSED:
        left, right = st.columns(2)
        with left:
            st.markdown("**Votes**")
            widgets.table(tally_rows(c), stretch=False)
        with right:
            st.markdown("**Who voted what**")
            if voter.admin_unlocked(ctx):
                widgets.table(vote_rows(detail.votes), stretch=False)
            else:
                st.caption("Shown to admins only (CODERANK_ADMINS, with DASHBOARD_ADMIN_PASSWORD).")
        st.markdown("**Outcome**")
        widgets.lines(reveal_lines(c))
