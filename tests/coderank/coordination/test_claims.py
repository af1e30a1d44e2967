"""Slack requests handled once across replicas: ``SharedClaims`` on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from coderank.coordination.postgres import KEEP_CLAIMS_S, Postgres, SharedClaims
from tests.coderank.coordination.harness import Admin


def test_the_first_claim_of_a_request_wins_and_a_retry_on_another_replica_does_nothing(
    replicas: Callable[[], Postgres],
) -> None:
    one, other = SharedClaims(replicas()), SharedClaims(replicas())

    assert one.claim("slack:Ev1") is True
    assert other.claim("slack:Ev1") is False  # Slack's retry, delivered to the other replica
    assert one.claim("slack:Ev1") is False  # a double click on the same replica
    assert other.claim("slack:Ev2") is True


def test_a_released_claim_lets_a_retry_run_on_another_replica(
    replicas: Callable[[], Postgres],
) -> None:
    one, other = SharedClaims(replicas()), SharedClaims(replicas())
    assert one.claim("slack:Ev1") is True

    one.release("slack:Ev1")  # its handler failed

    assert other.claim("slack:Ev1") is True
    assert one.claim("slack:Ev1") is False


def test_one_request_claimed_at_the_same_moment_on_two_replicas_has_one_winner(
    replicas: Callable[[], Postgres],
) -> None:
    claims = [SharedClaims(replicas()), SharedClaims(replicas())]
    callers = 8
    together = threading.Barrier(callers)

    def claim(n: int) -> bool:
        together.wait(timeout=10)
        return claims[n % 2].claim("slack:Ev1")

    with ThreadPoolExecutor(callers) as pool:
        won = list(pool.map(claim, range(callers)))

    assert won.count(True) == 1


def test_a_claim_is_kept_for_a_day_then_forgotten(
    replicas: Callable[[], Postgres], admin: Admin
) -> None:
    claims = SharedClaims(replicas())
    assert claims.claim("slack:old") and claims.claim("slack:recent")
    # As if the first were claimed a day and a minute ago, the second 23 hours ago.
    for key, age_s in (("slack:old", KEEP_CLAIMS_S + 60), ("slack:recent", KEEP_CLAIMS_S - 3600)):
        admin.execute("UPDATE coderank_claims SET at = at - %s WHERE key = %s", (age_s, key))

    other = SharedClaims(replicas())
    assert other.claim("slack:old") is True
    assert other.claim("slack:recent") is False
