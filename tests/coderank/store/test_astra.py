"""What only the Astra store does: collection set-up, retries, and clear errors; over the Data API
test server on 127.0.0.1."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from coderank.errors import StoreError
from coderank.store import COLLECTIONS, FEEDBACK, INDEXED_FIELDS
from coderank.store.astra import AstraStore
from harness.data_api_server import DataApiServer
from harness.servers import free_port
from harness.settings import ROOT


@pytest.fixture
def data_api() -> Iterator[DataApiServer]:
    server = DataApiServer().start()
    yield server
    server.stop()


def store(server: DataApiServer, **options: float | str) -> AstraStore:
    return AstraStore(server.endpoint, server.token, **options)  # type: ignore[arg-type]


def commands(server: DataApiServer, name: str) -> list[dict]:
    return [body for _, command, body in server.calls if command == name]


def test_collections_are_created_once_indexing_only_the_queried_fields(
    data_api: DataApiServer,
) -> None:
    store(data_api)
    created = {c["name"]: c["options"]["indexing"] for c in commands(data_api, "createCollection")}
    assert created == {name: {"allow": list(INDEXED_FIELDS[name])} for name in COLLECTIONS}
    store(data_api)  # a second start creates nothing
    assert len(commands(data_api, "createCollection")) == len(COLLECTIONS)


def test_two_processes_starting_at_once_both_succeed(data_api: DataApiServer) -> None:
    """Four processes open the store at once: each finds the collections missing and creates them,
    and all succeed, with each collection made once."""
    starting = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.astra_process", data_api.endpoint, data_api.token],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for process in starting:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        # Their listings of the collections are sent back only once all four have asked, so
        # every process sees the collections missing and creates them, as the others do.
        data_api.together(4, commands=("findCollections",))
        for process in starting:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        errors = [process.communicate(timeout=60)[1] for process in starting]
    finally:
        for process in starting:
            process.kill()
            process.wait()
    assert [p.returncode for p in starting] == [0, 0, 0, 0], errors
    assert errors == ["", "", "", ""]
    assert len(data_api.documents("default_keyspace", FEEDBACK)) == 1
    asked = Counter(c["name"] for c in commands(data_api, "createCollection"))
    assert asked == dict.fromkeys(COLLECTIONS, 4)  # the race happened: all four created each
    assert sorted(data_api.created) == sorted(("default_keyspace", n) for n in COLLECTIONS)
    assert commands(data_api, "deleteCollection") == []


@pytest.mark.parametrize("status", [503, 502, 429])
def test_transient_failures_are_retried(data_api: DataApiServer, status: int) -> None:
    astra = store(data_api, retry_budget_s=10)
    data_api.fail_next(2, status=status, commands=("findOneAndReplace",))
    astra.upsert(FEEDBACK, {"_id": "c:u", "comparison_id": "c", "choice": "A"})
    assert astra.get(FEEDBACK, "c:u")["choice"] == "A"
    assert len(commands(data_api, "findOneAndReplace")) == 3


def test_a_timed_out_request_is_retried(data_api: DataApiServer) -> None:
    astra = store(data_api, request_timeout_s=0.3, retry_budget_s=10)
    data_api.delay_next(1, 1.0, commands=("findOneAndReplace",))
    astra.upsert(FEEDBACK, {"_id": "c:u", "comparison_id": "c"})
    assert len(data_api.documents("default_keyspace", FEEDBACK)) == 1


def test_a_read_stream_survives_a_failure_between_pages(data_api: DataApiServer) -> None:
    astra = store(data_api, retry_budget_s=10)
    astra.upsert_many(FEEDBACK, [{"_id": f"c:{i:03d}", "comparison_id": "c"} for i in range(90)])
    stream = astra.find(FEEDBACK)
    first = [next(stream) for _ in range(25)]
    data_api.fail_next(1, status=503, commands=("find",))
    rest = list(stream)
    assert len({d["_id"] for d in first + rest}) == 90


def test_retries_stop_within_the_budget_with_a_clear_error(data_api: DataApiServer) -> None:
    astra = store(data_api, request_timeout_s=1, retry_budget_s=1.5)
    data_api.fail_next(1000, status=503)
    started = time.monotonic()
    with pytest.raises(StoreError, match="Astra did not answer while writing to feedback"):
        astra.upsert(FEEDBACK, {"_id": "c:u", "comparison_id": "c"})
    assert time.monotonic() - started < 8


def test_a_wrong_token_names_the_setting_and_never_shows_the_token(
    data_api: DataApiServer,
) -> None:
    with pytest.raises(StoreError) as info:
        AstraStore(data_api.endpoint, "AstraCS:wrong-and-secret", retry_budget_s=1)
    message = str(info.value)
    assert "ASTRA_DB_APPLICATION_TOKEN" in message
    assert "wrong-and-secret" not in message and "AstraCS" not in message


def test_a_missing_keyspace_names_the_setting(data_api: DataApiServer) -> None:
    with pytest.raises(StoreError, match="ASTRA_DB_KEYSPACE='nope' does not exist"):
        AstraStore(data_api.endpoint, data_api.token, keyspace="nope", retry_budget_s=1)


def test_an_unreachable_endpoint_names_the_setting() -> None:
    with pytest.raises(StoreError, match=re.escape("ASTRA_DB_API_ENDPOINT='http://127.0.0.1:")):
        AstraStore(f"http://127.0.0.1:{free_port()}", "AstraCS:x", retry_budget_s=0.5)


def test_a_ping_is_one_call_within_its_timeout_never_retried(data_api: DataApiServer) -> None:
    astra = store(data_api, retry_budget_s=30)
    astra.ping(timeout_s=2)
    data_api.delay_next(1, 3, commands=("findOne",))
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"did not answer within 0.5 s"):
        astra.ping(timeout_s=0.5)
    assert time.monotonic() - started < 2  # not the 30 s retry budget
    data_api.fail_next(1, status=503, commands=("findOne",))
    with pytest.raises(StoreError) as failed:
        astra.ping(timeout_s=2)
    assert "did not answer" in str(failed.value) and data_api.token not in str(failed.value)
    astra.ping(timeout_s=2)  # once the fault is spent
