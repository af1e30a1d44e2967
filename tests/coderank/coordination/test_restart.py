"""PostgreSQL restarted while votes come in: a vote during the outage is refused with a short
message (never reported as recorded and lost), and votes after it are stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from coderank.coordination.postgres import Postgres
from coderank.errors import CoderankError, CoordinationError
from coderank.store import Store
from harness.pg_server import PostgresServer
from tests.coderank.coordination.harness import comparisons_over, document_votes, feedback_votes


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own: stopping it leaves the session's alone."""
    started = PostgresServer().start()
    yield started
    started.stop()


@pytest.fixture
def db(server: PostgresServer) -> Iterator[Postgres]:
    opened = Postgres(server.url, size=4, lock_size=4)
    yield opened
    opened.close()


@contextmanager
def refused_within(db: Postgres, seconds: float) -> Iterator[None]:
    """Calls that find no connection are refused after ``seconds``, not the pools' 10 and 30."""
    waits = db.pool.timeout, db.lock_pool.timeout
    db.pool.timeout = db.lock_pool.timeout = seconds
    try:
        yield
    finally:
        db.pool.timeout, db.lock_pool.timeout = waits


def test_votes_after_a_postgresql_restart_are_stored_and_one_during_it_is_refused(
    server: PostgresServer, db: Postgres, store: Store
) -> None:
    comparisons = comparisons_over(db, store)
    cid = comparisons.start("Write f", requester="ann", source="slack").comparison_id
    comparisons.vote(cid, user="before", choice="A")

    server.pause()
    server.resume()  # a restart: every pooled connection is now dead
    assert comparisons.vote(cid, user="after-restart", choice="B").changed

    server.pause()
    with refused_within(db, 1.0):
        with pytest.raises(CoderankError) as during:
            comparisons.vote(cid, user="during", choice="tie")
        with pytest.raises(CoordinationError):
            comparisons.get(cid)  # what a results button reads
    server.resume()
    # It waits for the pools to reconnect, as any vote just after PostgreSQL came back.
    assert comparisons.vote(cid, user="after-outage", choice="both_bad").changed

    message = str(during.value)
    assert "\n" not in message and len(message) < 120
    assert "PostgreSQL" in message and "try again" in message
    expected = {"before": "A", "after-restart": "B", "after-outage": "both_bad"}
    assert dict(comparisons.get(cid).votes) == expected
    assert feedback_votes(store, cid) == document_votes(store, cid) == expected
