"""The voter id, asked once per browser session and kept in its session state."""

from __future__ import annotations

import streamlit as st

from coderank.errors import InvalidVoteError
from coderank.evaluation.formatting import own_rows, percent, votes_needed_text
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.personal import own_figures
from coderank.evaluation.report import closed_between
from coderank.overview import read_user_overview
from coderank.store import Window
from dashboard.access import password_ok, voter_id
from dashboard.context import Context
from dashboard.tables import plain

KEY = "voter"
ADMIN_KEY = "admin-unlocked"  # the voter id that gave DASHBOARD_ADMIN_PASSWORD in this session


def current() -> str | None:
    """The voter id of this browser session, if it was given."""
    voter = st.session_state.get(KEY)
    return voter if isinstance(voter, str) else None


def ask() -> str | None:
    """Ask for the voter id (once); returns it when given."""
    voter = current()
    if voter is not None:
        return voter
    st.markdown("Votes are recorded under your voter id: the same id on Slack and here.")
    with st.form("voter-form"):
        typed = st.text_input("Your voter id", placeholder="alice, or your Slack user id U0123…")
        if st.form_submit_button("Use this id"):
            try:
                st.session_state[KEY] = voter_id(typed)
            except InvalidVoteError as exc:
                st.error(str(exc))
            else:
                st.rerun()
    return None


def _forget() -> None:
    st.session_state.pop(KEY, None)
    st.session_state.pop(ADMIN_KEY, None)


def admin_unlocked(ctx: Context) -> bool:
    """Whether this session may see who voted what: its voter is an admin and gave the admin
    password (a typed voter id alone proves nothing)."""
    voter = current()
    return (
        ctx.is_admin(voter)
        and ctx.dashboard.admin_password is not None
        and st.session_state.get(ADMIN_KEY) == voter
    )


def _admin_unlock(ctx: Context) -> None:
    """For an admin's voter id: the admin password, once per session, or why there is none."""
    expected = ctx.dashboard.admin_password
    if expected is None:
        st.caption(
            "Flagged voters: `/coderank-admin voters` in Slack (set DASHBOARD_ADMIN_PASSWORD "
            "to see them here)."
        )
        return
    with st.form("admin-form"):
        given = st.text_input("Admin password (to see flagged voters)", type="password")
        if st.form_submit_button("Unlock"):
            if password_ok(given, expected):
                st.session_state[ADMIN_KEY] = current()
                st.rerun()
            st.error("Wrong admin password.")


def sidebar(ctx: Context) -> None:
    """Who is voting, how often they agreed with the team, their own figures (theirs alone),
    and a way to change it."""
    voter = current()
    with st.sidebar:
        if voter is None:
            st.caption("No voter id yet: you give it when you first ask or vote.")
            return
        role = " (admin)" if ctx.is_admin(voter) else ""
        st.markdown(f"Voting as **{voter}**{role}")
        if ctx.is_admin(voter) and not admin_unlocked(ctx):
            _admin_unlock(ctx)
        closed = list(closed_between(ctx.services.store, Window()))  # read once for both
        mine = read_user_overview(ctx.services.store, voter, closed=closed)
        if mine.agreement.value is not None:
            st.caption(
                f"You agreed with the team's majority on {mine.agreed} of {mine.agreement.n} "
                f"closed comparisons with other voters ({percent(mine.agreement.value)})."
            )
        own = own_figures(judged_pairs(closed), voter)
        if own.needed:
            st.caption(votes_needed_text(own))
        else:
            st.markdown(f"**Your own figures** ({own.votes} votes on closed comparisons)")
            st.caption("\n".join(f"- {plain(f'{name}: {value}')}" for name, value in own_rows(own)))
        st.button("Change voter id", on_click=_forget)
