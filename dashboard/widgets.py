"""Pieces two pages draw the same way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import streamlit as st

from coderank.models import Answer
from dashboard.tables import Row, answer_parts, plain


def answer(shown: Answer) -> None:
    """An answer: its code highlighted as Python, then the rest of its text."""
    code, rest = answer_parts(shown)
    if code:
        st.code(code, language="python", wrap_lines=True)
    if rest:
        st.markdown(rest.replace("$", "\\$"))  # a dollar would start LaTeX


def lines(texts: Iterable[str]) -> None:
    """Plain sentences as a bulleted list."""
    st.markdown("\n".join(f"- {plain(text)}" for text in texts))


def table(rows: Sequence[Row], *, stretch: bool = True) -> None:
    """A small static table, each cell shown as itself (``st.table`` reads Markdown)."""
    shown = [{k: plain(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
    st.table(shown, hide_index=True, width="stretch" if stretch else "content")
