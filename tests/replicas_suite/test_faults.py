"""Faults across two replicas: one killed mid-generation, PostgreSQL restarted mid-voting, a
fine-tune asked of both at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from coderank.store import COMPARISONS, FEEDBACK, RERANKER_SCORES, RESPONSES, doc_id
from harness.comparison_docs import comparison_doc
from harness.finetune_data import synthetic_pairs
from harness.replicas import ADMIN, LEASE_S, Cluster, vote_messages
from harness.slack_text import text_of

KEYSPACE = "default_keyspace"


def stored(cluster: Cluster, collection: str) -> list[dict[str, Any]]:
    return cluster.astra.documents(KEYSPACE, collection)


def test_a_replica_killed_mid_generation_is_taken_over_by_the_other(cluster: Cluster) -> None:
    first, second = cluster.replicas
    for n, sender in enumerate(cluster.senders):  # both have scored once: the reranker is loaded
        sender.command(f"Warm up {n}", channel=f"C0WARM{n}")
    warm = cluster.slack.wait_for(
        lambda: len(v := vote_messages(cluster.slack)) == 2 and v, timeout_s=120
    )  # each replica loads its reranker on its first comparison
    cluster.chat.delay_s = 30.0  # the agents are still answering when replica 1 dies
    acked = cluster.senders[0].command("Write h", channel="C0KILL")
    assert acked.status == 200
    cluster.slack.wait_for(lambda: cluster.chat.in_flight >= 1, timeout_s=30)
    first.kill()
    killed_at = time.monotonic()
    cluster.chat.delay_s = 0.2
    (cid,) = cluster.slack.wait_for(
        lambda: set(vote_messages(cluster.slack)) - set(warm), timeout_s=LEASE_S * 5
    )
    took = time.monotonic() - killed_at
    assert took < LEASE_S * 3, f"taken over after {took:.1f} s"
    assert "taking over comparison" in second.log()
    (doc,) = [d for d in stored(cluster, COMPARISONS) if d["_id"] == cid]
    assert doc["status"] == "voting"
    # The first replica comes back (same machine, same REPLICA_ID): the work is no longer its own.
    requests = cluster.chat.requests
    first.start().wait_ready()
    cluster.senders[0].command("Write i", channel="C0AFTER")
    cluster.slack.wait_for(lambda: len(vote_messages(cluster.slack)) == 4, timeout_s=30)
    # only the new comparison's three agents and its Tester
    assert cluster.chat.requests == requests + 4
    posted = [c for c in cluster.slack.calls_of("chat.postMessage")
              if c.params.get("channel") == "C0KILL"]  # fmt: skip
    assert len(posted) == 1  # one message for the comparison, updated by whichever replica


def test_clicks_while_postgres_restarts_are_stored_or_refused_never_lost(
    cluster: Cluster, postgres_server: Any
) -> None:
    cluster.senders[0].command("Write j", channel="C0PG")
    (cid,) = cluster.slack.wait_for(lambda: vote_messages(cluster.slack), timeout_s=60)
    channel, ts, _ = vote_messages(cluster.slack)[cid]
    told: dict[str, str] = {}

    def click(user: str, replica: int, name: str) -> None:
        sent = cluster.senders[replica].click(
            ids.VOTE_A, cid, user=user, channel=channel, message_ts=ts, response_name=name
        )
        assert sent.status in (200, 500, 503), sent
        if sent.status == 200:  # acknowledged: a reply follows, whatever it says
            reply = cluster.slack.wait_for(lambda: cluster.slack.responses_to(name), timeout_s=60)
            told[user] = reply[0]["text"]

    click("U0BEFORE", 0, "before")
    postgres_server.pause()
    try:
        with ThreadPoolExecutor(4) as pool:  # each waits for the database, up to 10 s
            list(pool.map(lambda i: click(f"U0DOWN{i}", i % 2, f"down{i}"), range(4)))
    finally:
        postgres_server.resume()
    for i in range(4):
        click(f"U0AFTER{i}", i % 2, f"after{i}")

    confirmed = {user for user, text in told.items() if text.startswith("You voted ")}
    votes = {d["user"] for d in stored(cluster, FEEDBACK) if d["comparison_id"] == cid}
    assert confirmed <= votes, f"told recorded but lost: {confirmed - votes}; replies {told}"
    assert {"U0BEFORE", *(f"U0AFTER{i}" for i in range(4))} <= confirmed, told
    refused = {u: t for u, t in told.items() if u.startswith("U0DOWN") and u not in confirmed}
    assert all("try again" in text.lower() for text in refused.values()), refused
    (doc,) = [d for d in stored(cluster, COMPARISONS) if d["_id"] == cid]
    assert set(doc["votes"]) == votes


def seed_decided_comparisons(cluster: Cluster, count: int) -> None:
    """``count`` closed comparisons where the team preferred the working answer (shown as A)."""
    for i, pair in enumerate(synthetic_pairs(count, seed=21)):
        cid = f"seeded-{i:03d}"
        for agent, text in (("explainer", pair.chosen), ("optimizer", pair.rejected)):
            cluster.store.upsert(
                RESPONSES,
                {"_id": doc_id(cid, agent), "comparison_id": cid, "agent": agent,
                 "problem": pair.query, "text": text},
            )  # fmt: skip
        cluster.store.upsert(
            COMPARISONS, comparison_doc(cid, votes={"U0VOTER": "A"}, problem=pair.query)
        )


@pytest.mark.slow
def test_a_fine_tune_asked_of_both_replicas_runs_once_and_both_use_its_model(
    cluster: Cluster, tmp_path: Path
) -> None:
    seed_decided_comparisons(cluster, 30)
    asked = [s.command("finetune", command="/coderank-admin", user=ADMIN) for s in cluster.senders]
    started = [a for a in asked if "Fine-tuning started" in a.body]
    busy = [a for a in asked if "is still running" in a.body]
    assert len(started) == 1 and len(busy) == 1, [a.body for a in asked]

    def dm() -> str:
        dms = [m for (ch, _), m in cluster.slack.messages.items() if ch == ADMIN]
        return text_of(dms[-1]) if dms else ""

    text = cluster.slack.wait_for(
        lambda: ("Fine-tune finished" in dm() or "Fine-tune failed" in dm()) and dm(),
        timeout_s=600,
    )
    assert ":white_check_mark: *Promoted*" in text, text
    (model,) = {str(p.resolve()) for p in (tmp_path / "models" / "reranker-ft").iterdir()}
    # The next comparison on each replica is scored by the promoted model, with no restart.
    for n, sender in enumerate(cluster.senders):
        sender.command(f"Write k{n}", channel=f"C0NEXT{n}")
    shown = cluster.slack.wait_for(
        lambda: len(v := vote_messages(cluster.slack)) == 2 and v, timeout_s=120
    )
    for cid in shown:
        scores = [d for d in stored(cluster, RERANKER_SCORES) if d["comparison_id"] == cid]
        assert scores and {s["model_id"] for s in scores} == {model}
