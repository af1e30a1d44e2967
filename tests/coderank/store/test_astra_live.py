"""Against a real Astra DB, when ``ASTRA_DB_API_ENDPOINT`` and ``ASTRA_DB_APPLICATION_TOKEN`` are
set (point ``ASTRA_DB_KEYSPACE`` at a scratch keyspace: the test writes documents whose ids start
with ``live-test:``). Otherwise the run reports it as not run (skipped, with the reason)."""

from __future__ import annotations

import os
import uuid

import pytest

from coderank.store import FEEDBACK
from coderank.store.astra import AstraStore

ENDPOINT = os.environ.get("ASTRA_DB_API_ENDPOINT")
TOKEN = os.environ.get("ASTRA_DB_APPLICATION_TOKEN")

pytestmark = pytest.mark.skipif(
    not (ENDPOINT and TOKEN),
    reason="live Astra test NOT RUN: ASTRA_DB_API_ENDPOINT / ASTRA_DB_APPLICATION_TOKEN not set",
)


def test_writes_and_reads_against_a_real_astra_db() -> None:
    assert ENDPOINT and TOKEN
    store = AstraStore(
        ENDPOINT, TOKEN, keyspace=os.environ.get("ASTRA_DB_KEYSPACE") or "default_keyspace"
    )
    cid = f"live-test:{uuid.uuid4().hex}"
    docs = [
        {"_id": f"{cid}:u{i}", "comparison_id": cid, "user": f"u{i}", "choice": "A"}
        for i in range(30)
    ]
    store.upsert_many(FEEDBACK, docs)
    store.upsert_many(FEEDBACK, docs)
    store.upsert(FEEDBACK, {**docs[0], "choice": "B"})
    assert store.count(FEEDBACK, {"comparison_id": cid}) == 30
    assert store.get(FEEDBACK, f"{cid}:u0")["choice"] == "B"
    assert len(list(store.find(FEEDBACK, {"comparison_id": cid}))) == 30
