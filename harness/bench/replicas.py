"""Replicas on PostgreSQL: vote resume latency against SQLite (same Astra test store), click
acknowledgement with two ``python -m bot`` replicas and 10 generations in flight, and the time a
live replica takes to finish the generation of one killed with ``kill -9``."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot import ids
from harness.bench.table import Row, log, percentile
from harness.chat_server import ChatServer
from harness.data_api_server import DataApiServer
from harness.pg_server import PostgresServer
from harness.replicas import LEASE_S, start_cluster, vote_messages
from harness.slack_server import SlackApiServer


def _vote_latencies(env: dict[str, str], votes: int) -> list[float]:
    from coderank.config import from_env
    from coderank.services import build_services
    from harness.fakes import LengthReranker, fake_agents

    settings = from_env({**env, "VOTE_QUORUM": "0"}, env_file=None)
    services = build_services(settings, agents=fake_agents(), reranker=LengthReranker())
    try:
        cid = services.comparisons.start("Write f", requester="bench", source="bench").comparison_id
        latencies = []
        for i in range(votes):
            started = time.perf_counter()
            services.comparisons.vote(cid, user=f"u{i}", choice="AB"[i % 2])
            latencies.append(time.perf_counter() - started)
        assert len(services.comparisons.get(cid).votes) == votes
        return latencies
    finally:
        services.close()


def bench_vote_engines(tmp: Path, pg: PostgresServer, votes: int) -> list[Row]:
    astra = DataApiServer().start()
    store = {
        "STORE": "astra",
        "ASTRA_DB_API_ENDPOINT": astra.endpoint,
        "ASTRA_DB_APPLICATION_TOKEN": astra.token,
    }
    try:
        sqlite = _vote_latencies({**store, "DATA_DIR": str(tmp / "sqlite-votes")}, votes)
        postgres = _vote_latencies(
            {**store, "DATA_DIR": str(tmp / "pg-votes"), "DATABASE_URL": pg.fresh_database()},
            votes,
        )
    finally:
        astra.stop()
    rows = []
    for name, latencies in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        ms = [s * 1000 for s in latencies]
        log(f"  {name}: p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms")
        note = f"{votes} votes one after another, Astra test store; lock, resume, store, checkpoint"
        rows.append(Row(f"vote resume p50, {name}", f"{percentile(ms, 50):.1f}", "ms", note))
        rows.append(Row(f"vote resume p99, {name}", f"{percentile(ms, 99):.1f}", "ms", "same run"))
    return rows


def bench_two_replicas(tmp: Path, pg: PostgresServer, clicks: int = 200) -> list[Row]:
    slack, astra = SlackApiServer().start(), DataApiServer().start()
    chat = ChatServer(delay_s=0.2).start()
    cluster = start_cluster(
        tmp / "cluster",
        database_url=pg.fresh_database(),
        slack=slack,
        astra=astra,
        chat=chat,
        extra={"GEN_WORKERS": "5"},
    )
    rng = random.Random(3)
    try:
        cluster.senders[0].command("The comparison people vote on", channel="C0VOTE")
        (cid,) = slack.wait_for(lambda: vote_messages(slack), timeout_s=60)
        channel, ts, _ = vote_messages(slack)[cid]
        chat.delay_s = 20.0  # 10 generations in flight (5 per replica) while the clicks come
        for i in range(10):
            cluster.senders[i % 2].command(f"Background problem {i}", channel=f"C0BG{i}")
        slack.wait_for(lambda: chat.in_flight >= 10 * 3 // 2, timeout_s=30)
        log(f"  {clicks} clicks, 10 at a time, each to a random replica")
        with ThreadPoolExecutor(10) as pool:
            acks = list(
                pool.map(
                    lambda i: (
                        cluster.senders[rng.randrange(2)]
                        .click(ids.VOTE_A, cid, user=f"U{i:04d}", channel=channel, message_ts=ts)
                        .seconds
                    ),
                    range(clicks),
                )
            )
        in_flight = chat.in_flight
        chat.delay_s = 0.2
        slack.wait_for(lambda: len(vote_messages(slack)) == 11, timeout_s=120)

        log("  failover: kill -9 of replica 1 in the middle of a generation")
        chat.delay_s = 30.0
        before = set(vote_messages(slack))
        cluster.senders[0].command("Killed mid-generation", channel="C0KILL")
        slack.wait_for(lambda: chat.in_flight >= 1, timeout_s=30)
        cluster.replicas[0].kill()
        killed = time.monotonic()
        chat.delay_s = 0.2
        slack.wait_for(lambda: set(vote_messages(slack)) - before, timeout_s=LEASE_S * 5)
        failover = time.monotonic() - killed
    finally:
        cluster.stop()
        for server in (slack, astra, chat):
            server.stop()
    ms = 1000.0
    note = f"two python -m bot replicas on one PostgreSQL, {in_flight} agent calls in flight"
    return [
        Row("click ack p50, two replicas", f"{percentile(acks, 50) * ms:.1f}", "ms", note),
        Row(
            "click ack p99, two replicas",
            f"{percentile(acks, 99) * ms:.1f}",
            "ms",
            f"{clicks} clicks, 10 at a time; target p99 < 3 s (Slack's limit)",
        ),
        Row(
            "failover after kill -9",
            f"{failover:.1f}",
            "s",
            f"kill to the vote message posted by the other replica; REPLICA_LEASE_S={LEASE_S:g} "
            "(default 30), renewed every third of it, + one generation (0.6 s)",
        ),
    ]


def bench_replicas(tmp: Path, votes: int) -> list[Row]:
    pg = PostgresServer().start()
    try:
        log("replicas 1/2: vote resume latency, PostgreSQL vs SQLite")
        rows = bench_vote_engines(tmp, pg, votes)
        log("replicas 2/2: two replicas: click ack under load, failover")
        return rows + bench_two_replicas(tmp, pg)
    finally:
        pg.stop()
