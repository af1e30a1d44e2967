"""Voters (admins only): each voter's tests over the closed comparisons, the flagged ones first,
as ``/coderank-admin voters`` lists them. The page is listed for an admin who gave the admin
password alone; opened by anyone else, it shows nobody's votes."""

from __future__ import annotations

import streamlit as st

from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.report import closed_between
from coderank.evaluation.voters import FLAG_P, check_voters
from coderank.store import Window
from dashboard import voter, widgets
from dashboard.context import Context
from dashboard.tables import voter_rows


def render(ctx: Context) -> None:
    st.title("Voters")
    if not voter.admin_unlocked(ctx):
        st.info("Shown to admins only (CODERANK_ADMINS, with DASHBOARD_ADMIN_PASSWORD).")
        return
    checks = check_voters(judged_pairs(closed_between(ctx.services.store, Window())))
    if not checks.records:
        st.info("No votes on closed comparisons yet.")
        return
    st.markdown(f"**{len(checks.flagged)} of {len(checks.records)} voters flagged**")
    st.caption(
        "Votes p: each vote against the other voters' on the same comparison, combined by "
        "Fisher's method (Chatbot Arena's anomalous-voter test). Position p: the voter's share "
        f"of A-or-B votes for the answer shown as A, against the team's. Flagged below {FLAG_P:g}."
        " Gold: comparisons execution decided. Closed comparisons only; shown to admins only."
    )
    widgets.table(voter_rows(checks))
