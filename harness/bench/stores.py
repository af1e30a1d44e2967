"""Store throughput on the vote path, for each store, and the time to copy 100,000 documents.

Astra is measured against the Data API test server on 127.0.0.1 (an in-process Python server):
the figures show the client and protocol cost, not a real Astra region's network latency."""

from __future__ import annotations

import time
from pathlib import Path

from coderank.store import FEEDBACK, Store
from coderank.store.astra import AstraStore
from coderank.store.copy import copy_store
from coderank.store.sqlite import SQLiteStore
from harness.bench.table import Row, log
from harness.data_api_server import DataApiServer


def _vote(i: int) -> dict[str, object]:
    cid = f"c{i // 10}"
    return {
        "_id": f"{cid}:u{i}",
        "comparison_id": cid,
        "user": f"u{i}",
        "choice": "AB"[i % 2],
        "agent_a": "explainer",
        "agent_b": "optimizer",
        "score_a": 0.51,
        "score_b": 0.49,
        "pair_probability": 0.8,
        "created_at": "2026-11-24T10:00:00.000+00:00",
    }


def _rates(kind: str, store: Store, n: int) -> list[Row]:
    began = time.perf_counter()
    for i in range(n):
        store.upsert(FEEDBACK, _vote(i))
    writes = n / (time.perf_counter() - began)
    began = time.perf_counter()
    for i in range(n):
        store.get(FEEDBACK, f"c{i // 10}:u{i}")
    reads = n / (time.perf_counter() - began)
    return [
        Row(
            f"{kind} writes/s (one vote upsert)",
            f"{writes:.0f}",
            "docs/s",
            f"{n} upserts, one at a time",
        ),
        Row(f"{kind} reads/s (get by _id)", f"{reads:.0f}", "docs/s", f"{n} gets, one at a time"),
    ]


def bench_stores(tmp: Path, *, votes: int = 500, copy_docs: int = 100_000) -> list[Row]:
    server = DataApiServer().start()
    try:
        rows = _rates("sqlite", SQLiteStore(tmp / "rates.db"), votes)
        rows += _rates("astra (test server)", AstraStore(server.endpoint, server.token), votes)
        log(f"  seeding {copy_docs:,} documents in SQLite")
        source = SQLiteStore(tmp / "copy.db")
        for start in range(0, copy_docs, 5000):
            source.upsert_many(
                FEEDBACK, [_vote(i) for i in range(start, min(copy_docs, start + 5000))]
            )
        target = AstraStore(server.endpoint, server.token, keyspace="default_keyspace")
        log(f"  copying {copy_docs:,} documents SQLite -> Astra (test server)")
        began = time.perf_counter()
        counts = copy_store(source, target)
        seconds = time.perf_counter() - began
        copied = sum(c.copied for c in counts)
        ok = all(c.matches for c in counts)
        rows.append(
            Row(
                "copy 100,000 documents sqlite -> astra",
                f"{seconds:.1f}",
                "s",
                f"{copied:,} copied in batches of 100, counts {'match' if ok else 'DIFFER'} "
                "(includes counting both sides)",
            )
        )
        return rows
    finally:
        server.stop()
