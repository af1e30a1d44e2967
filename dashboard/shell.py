"""The frame around every page: the settings and services (built once per process), the refusal
to serve beyond this machine without a password, the password, the voter in the sidebar, and
the navigation between the pages."""

from __future__ import annotations

import functools

import streamlit as st

from coderank.config import Settings
from coderank.errors import CoderankError
from dashboard import voter
from dashboard.access import password_ok
from dashboard.config import DashboardSettings, check_exposure, read_settings
from dashboard.context import Context, build_context, start_logging
from dashboard.views import ask, comparisons, evaluation, finetunes, voters

SIGNED_IN = "signed-in"
# Where Streamlit listens when server.address is unset: every interface.
EVERYWHERE = "0.0.0.0"


@st.cache_resource(show_spinner=False)
def _settings() -> tuple[Settings, DashboardSettings]:
    settings, dashboard = read_settings()
    start_logging(settings, dashboard)
    return settings, dashboard


@st.cache_resource(show_spinner="Opening the store…")
def _context() -> Context:
    return build_context(*_settings())


def _signed_in(password: str) -> bool:
    """Whether this browser session gave the password; asks for it otherwise."""
    if st.session_state.get(SIGNED_IN):
        return True
    st.title("CodeRank")
    with st.form("sign-in"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            if password_ok(given, password):
                st.session_state[SIGNED_IN] = True
                st.rerun()
            st.error("Wrong password.")
    return False


def main() -> None:
    """One run of the page (Streamlit runs it again on every interaction)."""
    st.set_page_config(page_title="CodeRank", layout="wide")
    try:
        _, dashboard = _settings()
        # The address Streamlit really listens on, however it was started.
        bound = st.get_option("server.address") or EVERYWHERE
        check_exposure(bound, dashboard.password, setting="Streamlit's server.address")
        if dashboard.password and not _signed_in(dashboard.password):
            return  # nothing is read before the password
        ctx = _context()
    except CoderankError as exc:  # a wrong setting, a store that cannot be opened
        st.error(f"error: {exc}")
        st.stop()
    voter.sidebar(ctx)
    pages = [
        st.Page(
            functools.partial(ask.render, ctx), title="Ask and vote", url_path="ask", default=True
        ),
        st.Page(
            functools.partial(evaluation.render, ctx), title="Evaluation", url_path="evaluation"
        ),
        st.Page(
            functools.partial(comparisons.render, ctx), title="Comparisons", url_path="comparisons"
        ),
        st.Page(
            functools.partial(finetunes.render, ctx), title="Fine-tunes", url_path="fine-tunes"
        ),
    ]
    if voter.admin_unlocked(ctx):  # who voted what: an admin who gave the admin password
        pages.append(
            st.Page(functools.partial(voters.render, ctx), title="Voters", url_path="voters")
        )
    st.navigation(pages).run()
