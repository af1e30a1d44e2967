"""Fine-tunes: the reranker in use, and each fine-tune run with the pairs it used, its held-out
accuracy before and after, and whether it was promoted."""

from __future__ import annotations

import streamlit as st

from coderank.evaluation.formatting import percent
from coderank.finetune.run import last_runs
from coderank.overview import reranker_in_use
from dashboard import widgets
from dashboard.context import Context
from dashboard.tables import finetune_rows, moment, plain

LIMIT = 50


def render(ctx: Context) -> None:
    st.title("Fine-tunes")
    in_use = reranker_in_use(ctx.settings, ctx.services.store)
    if in_use.model_id is None:
        st.error(plain(f"The reranker in use cannot be told: {in_use.error}"))
    else:
        st.markdown(f"**Reranker in use:** `{in_use.model_id}`")
    if in_use.pinned:
        st.caption("Pinned by RERANKER_LOAD_DIR, which wins over any promotion.")
    promoted = in_use.promoted
    if promoted is not None:
        before = "n/a" if promoted.accuracy_before is None else percent(promoted.accuracy_before)
        after = "n/a" if promoted.accuracy_after is None else percent(promoted.accuracy_after)
        st.caption(
            plain(
                f"Promoted {moment(promoted.promoted_at)} by {promoted.by}: held-out accuracy "
                f"{before} before, {after} after (it replaced {promoted.previous})."
            )
        )
    runs = last_runs(ctx.services.store, limit=LIMIT)
    st.subheader("Runs")
    if not runs:
        st.info(
            "No fine-tune yet: `/coderank-admin finetune` in Slack, or "
            "`scripts/offline_finetune_reranker.py`."
        )
        return
    widgets.table(finetune_rows(runs))
