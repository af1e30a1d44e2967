"""One fine-tune at a time across replicas: ``SharedGate``, a lease renewed while it runs."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from coderank.coordination.base import Holder
from coderank.coordination.postgres import Postgres, SharedGate
from coderank.errors import CoordinationError
from tests.coderank.coordination.harness import Admin, db_now, wait_until

SINCE = {"ann": "2025-03-03T09:00:00.000+00:00", "bob": "2025-03-03T09:00:00.001+00:00"}


def test_two_replicas_starting_a_fine_tune_at_once_run_one_and_the_other_is_told_who(
    replicas: Callable[[], Postgres],
) -> None:
    gates = {"ann": SharedGate(replicas(), "replica-a"), "bob": SharedGate(replicas(), "replica-b")}
    together = threading.Barrier(2)

    def enter(by: str) -> Holder | None:
        together.wait(timeout=10)
        return gates[by].try_enter(by=by, now=SINCE[by])

    with ThreadPoolExecutor(2) as pool:
        told = dict(zip(gates, pool.map(enter, gates), strict=True))

    winner = next(by for by, holder in told.items() if holder is None)
    loser = next(by for by in told if by != winner)
    assert told[loser] == Holder(by=winner, since=SINCE[winner])

    gates[loser].leave()  # leaving what it does not hold releases nothing
    assert gates[loser].try_enter(by=loser, now=SINCE[loser]) == Holder(winner, SINCE[winner])

    gates[winner].leave()
    assert gates[loser].try_enter(by=loser, now=SINCE[loser]) is None
    assert gates[winner].try_enter(by=winner, now=SINCE[winner]) == Holder(loser, SINCE[loser])
    gates[loser].leave()


def test_a_running_fine_tune_keeps_its_lease_and_a_dead_replicas_runs_out(
    replicas: Callable[[], Postgres], admin: Admin
) -> None:
    dying = replicas()
    gate = SharedGate(dying, "replica-a", ttl_s=1.0)
    other = SharedGate(replicas(), "replica-b")
    assert gate.try_enter(by="ann", now=SINCE["ann"]) is None
    entered_at = db_now(admin)

    wait_until(lambda: db_now(admin) > entered_at + 2.0, what="past twice the lease")
    assert other.try_enter(by="bob", now=SINCE["bob"]) == Holder("ann", SINCE["ann"])  # renewed

    dying.close()  # the replica is gone: no renewal reaches the database
    wait_until(
        lambda: other.try_enter(by="bob", now=SINCE["bob"]) is None,
        what="the dead replica's lease run out",
    )
    other.leave()
    with contextlib.suppress(CoordinationError):  # stops its renewal; its pool is closed
        gate.leave()
