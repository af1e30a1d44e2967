"""Shared fixtures. Real models are loaded once per session; Hugging Face Hub access is off."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coderank.config import Settings, from_env
from coderank.services import Services, build_services
from harness.fakes import LengthReranker, fake_agents
from harness.settings import MODEL_CACHE, TEST_MODEL, make_settings


def pytest_configure(config: pytest.Config) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # `make test` runs two workers on two cores: each model (llama.cpp, torch) decodes on one
        # thread, as two threads each would spin against the other worker's tests.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("LLM_THREADS", "1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, VOTE_QUORUM="0")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """The real graph, SQLite store and checkpointer over scripted agents and a length reranker."""
    built = build_services(
        settings, agents=fake_agents(), reranker=LengthReranker(), rng=random.Random(7)
    )
    yield built
    built.close()


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The GGUF the tests generate with (``TEST_MODEL``, as ``make_env`` sets it), assembled once
    into the shared cache."""
    from coderank.agents.llm import local_gguf_path

    env = {"CODERANK_CACHE_DIR": MODEL_CACHE, "LOCAL_MODEL": TEST_MODEL}
    return local_gguf_path(from_env(env, env_file=None))


@pytest.fixture(scope="session")
def default_gguf_path() -> Path:
    """The default packaged GGUF (``LOCAL_MODEL`` unset), for the default's own real runs."""
    from coderank.agents.llm import local_gguf_path

    return local_gguf_path(from_env({"CODERANK_CACHE_DIR": MODEL_CACHE}, env_file=None))


@pytest.fixture(scope="session")
def gemma_gguf_path() -> Path:
    """The small packaged GGUF (``LOCAL_MODEL=gemma-3-270m``), for a test that needs Gemma."""
    from coderank.agents.llm import local_gguf_path

    env = {"CODERANK_CACHE_DIR": MODEL_CACHE, "LOCAL_MODEL": "gemma-3-270m"}
    return local_gguf_path(from_env(env, env_file=None))


@pytest.fixture(params=["sqlite", "astra"])
def store_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Settings for each store: the embedded SQLite one, and Astra over the Data API test server."""
    if request.param == "sqlite":
        yield {"STORE": "sqlite"}
        return
    from harness.data_api_server import DataApiServer

    server = DataApiServer().start()
    yield {
        "STORE": "astra",
        "ASTRA_DB_API_ENDPOINT": server.endpoint,
        "ASTRA_DB_APPLICATION_TOKEN": server.token,
    }
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster for the session (see ``harness/pg_server.py``)."""
    from harness.pg_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres_server: Any) -> str:
    """A fresh, empty database on the session's cluster, as a ``DATABASE_URL``."""
    return postgres_server.fresh_database()


@pytest.fixture
def slack() -> Iterator[Any]:
    """The Slack Web API test server (``harness/slack_server.py``)."""
    from harness.slack_server import SlackApiServer

    server = SlackApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def astra() -> Iterator[Any]:
    """The Astra Data API test server (``harness/data_api_server.py``)."""
    from harness.data_api_server import DataApiServer

    server = DataApiServer().start()
    yield server
    server.stop()
