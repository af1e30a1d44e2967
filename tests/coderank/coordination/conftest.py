"""Replicas on one test database: each opens pools of its own, as processes on two machines do."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from coderank.config import Settings
from coderank.coordination.postgres import Postgres, fenced_saver
from coderank.store import Store, open_store
from harness.data_api_server import DataApiServer
from tests.coderank.coordination.harness import Admin


@pytest.fixture
def replicas(database_url: str) -> Iterator[Callable[[], Postgres]]:
    """Open one more replica's pools on the test's database (tables set up, as at start-up)."""
    opened: list[Postgres] = []

    def open_replica() -> Postgres:
        db = Postgres(database_url, size=4, lock_size=4)
        opened.append(db)
        db.setup(fenced_saver(db))
        return db

    yield open_replica
    for db in opened:
        db.close()


@pytest.fixture
def admin(database_url: str) -> Iterator[Admin]:
    """A connection of its own, to look at what the database holds."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def store(astra: DataApiServer) -> Iterator[Store]:
    """The Astra store over the Data API test server: what replicas on several machines share."""
    opened = open_store(
        Settings(store="astra", astra_endpoint=astra.endpoint, astra_token=astra.token)
    )
    yield opened
    opened.close()
