"""One comparison's resumes serialised across replicas: ``AdvisoryLocks`` on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from coderank.coordination.postgres import AdvisoryLocks, Postgres
from tests.coderank.coordination.harness import Admin, wait_until
from tests.replica_process import ReplicaProcess


def waiting_for_a_lock(admin: Admin) -> int:
    """How many connections to the test's database wait for an advisory lock now."""
    row = admin.execute(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    ).fetchone()
    assert row is not None
    return int(row["n"])


def test_two_replicas_holding_one_comparisons_lock_take_turns(
    replicas: Callable[[], Postgres], admin: Admin
) -> None:
    one, other = AdvisoryLocks(replicas()), AdvisoryLocks(replicas())
    events: list[str] = []

    def second() -> None:
        with other.hold("c1"):
            events.append("other holds")

    thread = threading.Thread(target=second, daemon=True)
    with one.hold("c1"):
        events.append("one holds")
        thread.start()
        wait_until(lambda: waiting_for_a_lock(admin) == 1, what="the other replica waiting")
        events.append("one releases")
    thread.join(timeout=10)

    assert events == ["one holds", "one releases", "other holds"]


def test_locks_of_two_comparisons_do_not_wait_for_each_other(
    replicas: Callable[[], Postgres],
) -> None:
    one, other = AdvisoryLocks(replicas()), AdvisoryLocks(replicas())
    entered = threading.Event()

    def second() -> None:
        with other.hold("c2"):
            entered.set()

    with one.hold("c1"):
        threading.Thread(target=second, daemon=True).start()
        assert entered.wait(timeout=10), "c2's lock waited for c1's"


def test_the_lock_of_a_replica_that_dies_holding_it_is_released(
    database_url: str, replicas: Callable[[], Postgres], admin: Admin
) -> None:
    other = AdvisoryLocks(replicas())
    entered = threading.Event()

    def second() -> None:
        with other.hold("c1"):
            entered.set()

    with ReplicaProcess.holding(database_url, "c1") as holder:
        holder.expect("holding")
        threading.Thread(target=second, daemon=True).start()
        wait_until(lambda: waiting_for_a_lock(admin) == 1, what="the other replica waiting")
        assert not entered.is_set()

        holder.kill()  # SIGKILL: no unlock is ever sent

        assert entered.wait(timeout=10), "the dead replica's lock was never released"
