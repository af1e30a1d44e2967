"""The voter id, asked once per browser session and kept in its session state."""

from __future__ import annotations

import streamlit as st

from coderank.errors import InvalidVoteError
from coderank.evaluation.formatting import percent
from coderank.overview import read_user_overview
from dashboard.access import voter_id
from dashboard.context import Context

KEY = "voter"


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


def sidebar(ctx: Context) -> None:
    """Who is voting, how often they agreed with the team, and a way to change it."""
    voter = current()
    with st.sidebar:
        if voter is None:
            st.caption("No voter id yet: you give it when you first ask or vote.")
            return
        role = " (admin)" if ctx.is_admin(voter) else ""
        st.markdown(f"Voting as **{voter}**{role}")
        mine = read_user_overview(ctx.services.store, voter)
        if mine.agreement.value is not None:
            st.caption(
                f"You agreed with the team's majority on {mine.agreed} of {mine.agreement.n} "
                f"closed comparisons with other voters ({percent(mine.agreement.value)})."
            )
        st.button("Change voter id", on_click=_forget)
