"""Clicks and commands spread over two replicas: every click acknowledged in time, every vote
stored once, every message right, a Slack retry on the other replica starting nothing."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

from bot import ids
from coderank.store import COMPARISONS, FEEDBACK
from harness.replicas import Cluster, vote_messages
from harness.slack_text import text_of

CHOICES = [ids.VOTE_A, ids.VOTE_B, ids.VOTE_TIE, ids.VOTE_BOTH_BAD]
LABELS = {"A": "A", "B": "B", "tie": "Tie", "both_bad": "Both bad"}


def open_comparisons(cluster: Cluster, count: int) -> dict[str, tuple[str, str]]:
    """``count`` comparisons asked for in their own channels, alternately on each replica;
    comparison_id -> (channel, ts) once each is a vote message."""
    for i in range(count):
        acked = cluster.senders[i % 2].command(f"Write f{i}", channel=f"C{i:03d}", user="U0ALICE")
        assert acked.status == 200 and acked.seconds < 3
    found = cluster.slack.wait_for(
        lambda: len(shown := vote_messages(cluster.slack)) == count and shown, timeout_s=60
    )
    return {cid: (channel, ts) for cid, (channel, ts, _) in found.items()}


def test_a_hundred_clicks_on_two_replicas_are_each_stored_once(cluster: Cluster) -> None:
    rng = random.Random(5)
    opened = open_comparisons(cluster, 10)
    # 100 clicks from 50 users over 10 comparisons: 10 voters each, each user on 2 comparisons.
    clicks = []
    for n, cid in enumerate(sorted(opened)):
        for k in range(10):
            user = f"U{(n * 10 + k) % 50:03d}"
            clicks.append((cid, user, rng.choice(CHOICES), rng.randrange(2)))
    rng.shuffle(clicks)  # interleaved over comparisons and replicas

    def click(item: tuple[str, str, str, int]) -> tuple[float, int]:
        cid, user, action, replica = item
        channel, ts = opened[cid]
        sent = cluster.senders[replica].click(
            action, cid, user=user, channel=channel, message_ts=ts, response_name=f"{cid}-{user}"
        )
        return sent.seconds, sent.status

    with ThreadPoolExecutor(20) as pool:
        answered = list(pool.map(click, clicks))
    assert all(status == 200 for _, status in answered)
    assert max(seconds for seconds, _ in answered) < 3, sorted(answered)[-5:]
    cluster.slack.wait_for(
        lambda: all(cluster.slack.responses_to(f"{c}-{u}") for c, u, _, _ in clicks),
        timeout_s=60,
    )
    replies = [cluster.slack.responses_to(f"{c}-{u}")[0]["text"] for c, u, _, _ in clicks]
    assert all(r.startswith("You voted ") for r in replies), [
        r for r in replies if not r.startswith("You voted ")
    ]

    expected = {
        cid: {u: ids.VOTE_CHOICES[a] for c, u, a, _ in clicks if c == cid} for cid in opened
    }
    for cid, votes in expected.items():
        stored = [d for d in cluster.astra.documents("default_keyspace", FEEDBACK)
                  if d["comparison_id"] == cid]  # fmt: skip
        assert sorted(d["user"] for d in stored) == sorted(votes)  # each vote exactly once
        assert {d["user"]: d["choice"] for d in stored} == votes
        (doc,) = [d for d in cluster.astra.documents("default_keyspace", COMPARISONS)
                  if d["_id"] == cid]  # fmt: skip
        assert doc["votes"] == votes

    for channel, ts in opened.values():
        cluster.slack.wait_for(
            lambda ch=channel, ts=ts: (
                "10 people have voted." in text_of(cluster.slack.messages[(ch, ts)])
            ),
            timeout_s=30,
        )
    # Closed from either replica: every message shows its own final tally, and stays closed
    # (a late tally update from the other replica never brings the buttons back).
    for n, (cid, (channel, ts)) in enumerate(sorted(opened.items())):
        cluster.senders[n % 2].click(
            ids.CLOSE_VOTING, cid, user="U0ALICE", channel=channel, message_ts=ts
        )
    for cid, (channel, ts) in opened.items():
        counts = {c: list(expected[cid].values()).count(c) for c in LABELS}
        counted = " · ".join(f"{LABELS[c]}: {n}" for c, n in counts.items())
        cluster.slack.wait_for(
            lambda ch=channel, ts=ts, counted=counted: (
                f"({counted}; 10 voters)" in text_of(cluster.slack.messages[(ch, ts)])
            ),
            timeout_s=30,
        )
    time.sleep(2.5)  # longer than the 1 s coalescing of tally updates: any late one has been sent
    for channel, ts in opened.values():
        final = cluster.slack.messages[(channel, ts)]
        assert not any(b.get("block_id") == "coderank_votes" for b in final["blocks"])
    assert cluster.slack.token not in cluster.logs()


def test_a_slack_retry_on_the_other_replica_starts_nothing(cluster: Cluster) -> None:
    first, other = cluster.senders
    body = first.command_body("Write g", channel="C0RETRY")
    assert first.post(body).status == 200
    again = other.post(body, retry_num=1)
    assert again.status == 200 and again.seconds < 3
    cluster.slack.wait_for(lambda: vote_messages(cluster.slack), timeout_s=60)
    (cid,) = vote_messages(cluster.slack)
    posted = [c for c in cluster.slack.calls_of("chat.postMessage")
              if c.params.get("channel") == "C0RETRY"]  # fmt: skip
    assert len(posted) == 1
    assert cluster.chat.requests == 4  # the three agents and the Tester, once
    docs = cluster.astra.documents("default_keyspace", COMPARISONS)
    assert [d["_id"] for d in docs] == [cid]
