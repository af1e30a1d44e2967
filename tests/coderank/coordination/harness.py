"""What the coordination tests share: comparisons over a replica's PostgreSQL pools, a writer
that takes no lock, what the database holds, and waiting for a condition (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from coderank.comparisons import Comparisons
from coderank.coordination.base import Locks
from coderank.coordination.postgres import AdvisoryLocks, Postgres, fenced_saver
from coderank.graph.build import build_graph
from coderank.graph.nodes import GraphServices
from coderank.store import COMPARISONS, FEEDBACK, Store
from harness.fakes import LengthReranker, fake_agents

Admin = psycopg.Connection[dict[str, Any]]


def wait_until(condition: Callable[[], object], *, what: str, timeout_s: float = 10) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout_s:g} s")
        time.sleep(0.01)


class NoLocks:
    """A writer that takes no lock (an older replica, or one whose lock connection dropped):
    only the checkpointer's fence stands between it and a fork."""

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        yield

    def close(self) -> None:
        pass


def comparisons_over(db: Postgres, store: Store, *, locks: Locks | None = None) -> Comparisons:
    """``Comparisons`` as ``build_services`` wires them for ``DATABASE_URL``, over ``db``'s pools,
    with scripted agents and no quorum."""
    saver = fenced_saver(db)
    db.setup(saver)
    services = GraphServices(
        agents=fake_agents(), reranker=LengthReranker(), store=store, vote_quorum=0
    )
    return Comparisons(build_graph(services, saver), store=store, locks=locks or AdvisoryLocks(db))


def feedback_votes(store: Store, comparison_id: str) -> dict[str, str]:
    """The votes the store's feedback collection holds for a comparison: user -> choice."""
    docs = store.find(FEEDBACK, {"comparison_id": comparison_id})
    return {str(doc["user"]): str(doc["choice"]) for doc in docs}


def document_votes(store: Store, comparison_id: str) -> dict[str, str]:
    """The votes of the comparison's document in the store (what the dashboards read)."""
    doc = store.get(COMPARISONS, comparison_id)
    assert doc is not None
    assert doc["voters"] == len(doc["votes"])
    return dict(doc["votes"])


def forks(admin: Admin, thread_id: str) -> list[str]:
    """Checkpoints of the thread with more than one child: a history that forked."""
    rows = admin.execute(
        "SELECT parent_checkpoint_id FROM checkpoints WHERE thread_id = %s "
        "AND parent_checkpoint_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1",
        (thread_id,),
    ).fetchall()
    return [str(row["parent_checkpoint_id"]) for row in rows]


def db_now(admin: Admin) -> float:
    """The database's clock, which every lease is timed by."""
    row = admin.execute("SELECT extract(epoch from clock_timestamp()) AS now").fetchone()
    assert row is not None
    return float(row["now"])
