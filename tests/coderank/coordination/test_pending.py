"""Generations asked for and not yet ended, across replicas: ``SharedPending`` leases, timed by
the database's clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from coderank.coordination.postgres import Postgres, SharedPending
from coderank.models import GenerationRequest
from tests.coderank.coordination.harness import Admin, db_now, wait_until


def request(n: int) -> GenerationRequest:
    return GenerationRequest(
        comparison_id=f"c{n}",
        problem=f"Write f{n}",
        requester="ann",
        source="slack",
        surface={"channel": "C1", "ts": f"{n}.0"},
    )


def owners(admin: Admin) -> dict[str, str]:
    rows = admin.execute("SELECT comparison_id, owner FROM coderank_pending").fetchall()
    return {str(row["comparison_id"]): str(row["owner"]) for row in rows}


def test_pending_generations_are_kept_until_finished_oldest_first(
    replicas: Callable[[], Postgres],
) -> None:
    pending = SharedPending(replicas(), "replica-a")
    pending.add(request(1), at=200.0)
    pending.add(request(2), at=100.0)
    pending.add(request(3))  # now

    assert pending.all() == [request(2), request(1), request(3)]
    pending.finish("c2")
    assert pending.all() == [request(1), request(3)]
    assert pending.renew() == 2


def test_a_live_replica_never_takes_another_live_replicas_generations(
    replicas: Callable[[], Postgres], admin: Admin
) -> None:
    SharedPending(replicas(), "replica-a").add(request(1))
    other = SharedPending(replicas(), "replica-b")

    assert other.all() == []
    assert other.orphans() == []
    assert owners(admin) == {"c1": "replica-a"}
    # replica-a restarted (new connections, same id) takes its own back at once
    assert SharedPending(replicas(), "replica-a").all() == [request(1)]


def test_a_dead_replicas_generations_go_each_to_exactly_one_other_replica(
    replicas: Callable[[], Postgres], admin: Admin
) -> None:
    dead = SharedPending(replicas(), "replica-dead", lease_s=1.0)
    for n in range(20):
        dead.add(request(n), at=float(n))
    takers = [SharedPending(replicas(), f"replica-{name}") for name in ("b", "c")]
    assert [taker.orphans() for taker in takers] == [[], []]  # its lease still runs
    assert dead.orphans() == []  # never its own

    lease_until = admin.execute("SELECT max(lease_until) AS t FROM coderank_pending").fetchone()
    assert lease_until is not None
    wait_until(lambda: db_now(admin) > lease_until["t"], what="the dead replica's lease over")
    together = threading.Barrier(len(takers))

    def take(taker: SharedPending) -> list[GenerationRequest]:
        together.wait(timeout=10)
        return taker.orphans()

    with ThreadPoolExecutor(len(takers)) as pool:
        taken = list(pool.map(take, takers))

    ids = [[r.comparison_id for r in got] for got in taken]
    assert sorted(ids[0] + ids[1]) == sorted(f"c{n}" for n in range(20))  # each once
    assert owners(admin) == {
        cid: t.owner for t, got in zip(takers, ids, strict=True) for cid in got
    }
    assert dead.renew() == 0  # back from the dead, it holds none of them
    assert [t.orphans() for t in takers] == [[], []]  # the takers' leases run
