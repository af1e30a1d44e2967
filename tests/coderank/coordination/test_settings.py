"""Settings that cannot be safe across machines stop start-up with one line naming the setting,
and ``DATABASE_URL``'s password is never shown."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from coderank.config import Settings, from_env
from coderank.coordination import open_coordination
from coderank.coordination.postgres import redacted
from coderank.errors import ConfigError, CoordinationError
from harness.servers import free_port

PASSWORD = "s3cret-Pw"
DATABASE_URL = f"postgresql://bob:{PASSWORD}@db.example:5432/coderank"
ASTRA = {
    "STORE": "astra",
    "ASTRA_DB_API_ENDPOINT": "http://127.0.0.1:1",
    "ASTRA_DB_APPLICATION_TOKEN": "AstraCS:t",
}


def settings(tmp_path: Path, **env: str) -> Settings:
    return from_env({"DATA_DIR": str(tmp_path / "data"), **env}, env_file=None)


def refused(tmp_path: Path, **env: str) -> str:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, **env)
    message = str(error.value)
    assert "\n" not in message
    assert PASSWORD not in message
    return message


def test_a_postgresql_checkpoint_url_without_database_url_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, CHECKPOINT_URL=DATABASE_URL, **ASTRA)
    assert message.startswith("CHECKPOINT_URL=")
    assert "DATABASE_URL" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHECKPOINT_URL", "sqlite:///data/checkpoints.db"),
        ("CHECKPOINT_URL", "data/checkpoints.db"),
        ("JOBS_URL", "sqlite:///data/jobs.db"),
    ],
)
def test_a_file_on_one_machine_with_database_url_is_refused(
    tmp_path: Path, name: str, value: str
) -> None:
    message = refused(tmp_path, DATABASE_URL=DATABASE_URL, **{name: value}, **ASTRA)
    assert message.startswith(f"{name}=")
    assert "DATABASE_URL" in message


@pytest.mark.parametrize("store", [{"STORE": "sqlite"}, {}], ids=["sqlite", "default"])
def test_the_sqlite_store_with_database_url_is_refused(
    tmp_path: Path, store: dict[str, str]
) -> None:
    message = refused(tmp_path, DATABASE_URL=DATABASE_URL, **store)
    assert message.startswith("STORE=sqlite")
    assert "STORE=astra" in message


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, DATABASE_URL=f"mysql://bob:{PASSWORD}@db/coderank", **ASTRA)
    assert message.startswith("DATABASE_URL")


def test_database_url_puts_checkpoints_and_jobs_in_postgresql(tmp_path: Path) -> None:
    accepted = settings(tmp_path, DATABASE_URL=DATABASE_URL, **ASTRA)
    assert accepted.database_url == DATABASE_URL
    assert accepted.checkpoint_url.startswith("postgresql://")
    assert accepted.jobs_url.startswith("postgresql+psycopg://")


def test_the_password_of_database_url_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    accepted = settings(tmp_path, DATABASE_URL=DATABASE_URL, **ASTRA)
    assert PASSWORD not in repr(accepted)


@pytest.mark.parametrize(
    "url",
    [
        DATABASE_URL,
        f"postgresql://bob:{PASSWORD}@db.example/coderank?sslmode=require",
        f"postgresql://bob:p@ss:{PASSWORD}@db.example/coderank",
        f"postgresql://bob@db.example/coderank?sslmode=require&password={PASSWORD}",
    ],
)
def test_urls_in_messages_keep_the_user_host_and_database_not_the_password(url: str) -> None:
    shown = redacted(url)
    assert PASSWORD not in shown
    assert shown.startswith("postgresql://bob@db.example")
    assert "/coderank" in shown


def test_an_unreachable_postgresql_is_one_line_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()  # nothing listens there
    threads = set(threading.enumerate())

    with pytest.raises(CoordinationError) as error:
        open_coordination(
            Settings(database_url=f"postgresql://bob:{PASSWORD}@127.0.0.1:{port}/coderank")
        )

    message = str(error.value)
    assert "\n" not in message
    assert f"postgresql://bob@127.0.0.1:{port}/coderank" in message
    assert "DATABASE_URL" in message
    assert PASSWORD not in message
    assert PASSWORD not in caplog.text
    # Nothing keeps trying to connect in the background after start-up gave up.
    deadline = time.monotonic() + 10
    while [t for t in set(threading.enumerate()) - threads if t.is_alive()]:
        assert time.monotonic() < deadline, "the pools' threads still run"
        time.sleep(0.05)
