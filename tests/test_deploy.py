"""The Dockerfile and compose.yaml, checked without a Docker engine (none runs on these machines):
what each file says against the repository and the settings the code reads."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import config as slack_config
from bot.http import HEALTH_PATH
from coderank import config as core_config
from dashboard import config as dashboard_config

ROOT = Path(__file__).resolve().parent.parent
COMPILERS = ("build-essential", "gcc", "g++", "clang", "cmake", "make")
# Variables of the image that are not CodeRank settings: Python's, pip's and Hugging Face's.
NOT_SETTINGS = {
    "PATH",
    "PYTHONUNBUFFERED",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "HF_HUB_OFFLINE",
}
CODERANK_SERVICES = ("bot-1", "bot-2", "dashboard")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                values[name] = value
        return values


def dockerfile_stages(text: str) -> list[Stage]:
    """The Dockerfile's stages, each with its instructions (continuations joined, comments out)."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return dockerfile_stages((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def settings_table() -> set[str]:
    """Every setting the README's configuration file lists (``.env.example``)."""
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"#?\s*([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def test_the_image_is_built_in_stages_and_runs_a_slim_one(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    runtime = stages[-1]
    assert runtime.name == "runtime"
    installs = " ".join(runtime.all("RUN"))
    for compiler in COMPILERS:
        assert not re.search(rf"(?<![\w-]){re.escape(compiler)}(?![\w-])", installs), compiler
    # What the runtime has of the build: the virtualenv and the assembled model, nothing else.
    copied_from_build = [a for a in runtime.all("COPY") if a.startswith("--from=")]
    assert copied_from_build, "the runtime stage copies nothing from the build stage"
    for args in copied_from_build:
        source = args.split()[1]
        assert source in ("/opt/venv", runtime.env()["CODERANK_CACHE_DIR"]), source


def test_the_runtime_installs_no_test_tool(stages: list[Stage]) -> None:
    build_runs = " ".join(run for stage in stages[:-1] for run in stage.all("RUN"))
    assert "requirements-dev.txt" not in build_runs
    assert "pip install -r /build/requirements.txt" in build_runs
    runtime_requirements = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "ruff", "mypy", "selenium", "time-machine"):
        assert not re.search(rf"^{tool}==", runtime_requirements, re.M), tool
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and "pytest==" in dev


def test_every_copy_source_exists(stages: list[Stage]) -> None:
    for stage in stages:
        for args in stage.all("COPY"):
            if args.startswith("--from="):
                continue
            *sources, _destination = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert not _ignored(source), f"COPY {source}: .dockerignore leaves it out"


def _ignored(source: str) -> bool:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return source.rstrip("/").split("/")[0] in ignored


def test_the_build_context_leaves_out_secrets_and_the_local_virtualenv() -> None:
    for path in (".env", ".venv", "data"):
        assert _ignored(path), path


def test_the_image_runs_as_a_user_that_is_not_root(stages: list[Stage]) -> None:
    runtime = stages[-1]
    keywords = [key for key, _ in runtime.instructions]
    users = runtime.all("USER")
    assert users and users[-1] not in ("root", "0", "0:0")
    assert keywords.index("USER") < keywords.index("CMD")
    assert f"useradd --create-home --uid 10001 --user-group {users[-1]}" in " ".join(
        runtime.all("RUN")
    )


def test_llama_cpp_is_built_for_any_cpu(stages: list[Stage]) -> None:
    build_runs = " ".join(run for stage in stages[:-1] for run in stage.all("RUN"))
    assert "install_llama_cpp.sh /opt/venv" in build_runs
    script = (ROOT / "scripts" / "install_llama_cpp.sh").read_text()
    assert "-DGGML_NATIVE=OFF" in script


def test_the_model_is_assembled_at_build_time_into_the_runtime_cache(stages: list[Stage]) -> None:
    build = stages[0]
    assert any("local_gguf_path" in run for run in build.all("RUN"))
    assert build.env()["CODERANK_CACHE_DIR"] == stages[-1].env()["CODERANK_CACHE_DIR"]
    assert stages[-1].env()["HF_HUB_OFFLINE"] == "1"


def test_the_health_check_and_ports_match_the_settings(stages: list[Stage]) -> None:
    runtime = stages[-1]
    (check,) = runtime.all("HEALTHCHECK")
    assert HEALTH_PATH in check
    exposed = {int(p) for args in runtime.all("EXPOSE") for p in args.split()}
    assert exposed == {int(runtime.env()["PORT"]), dashboard_default_port()}
    env = runtime.env()
    assert set(env) - NOT_SETTINGS <= settings_table(), set(env) - NOT_SETTINGS - settings_table()


def dashboard_default_port() -> int:
    return dashboard_config.from_env({}, env_file=None).port


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def test_compose_runs_two_replicas_on_postgres_and_the_dashboard(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(CODERANK_SERVICES) | {"postgres"} <= set(services)
    bots = [_environment(services[name]) for name in ("bot-1", "bot-2")]
    assert bots[0]["DATABASE_URL"] == bots[1]["DATABASE_URL"]
    assert bots[0]["DATABASE_URL"].split("@")[1].startswith("postgres:5432/")
    assert bots[0]["REPLICA_ID"] != bots[1]["REPLICA_ID"]
    assert services["dashboard"]["command"] == ["python", "-m", "dashboard"]
    for name in CODERANK_SERVICES:
        service = services[name]
        assert service["build"] == "."
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        env = _environment(service)
        mounts = dict(v.split(":")[::-1] for v in service["volumes"])
        assert mounts[env["MODELS_DIR"]] == "models", f"{name}: the shared models volume"
        assert mounts[env["DATA_DIR"]] != "models"


def test_compose_settings_are_known_and_valid(compose: dict[str, Any]) -> None:
    table = settings_table()
    for name in CODERANK_SERVICES:
        env = _environment(compose["services"][name])
        assert set(env) <= table, f"{name}: {set(env) - table} are not settings"
        with_secrets = {
            **env,
            "DATABASE_URL": env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:-coderank}", "pw"),
            "ASTRA_DB_API_ENDPOINT": "https://db-region.apps.astra.datastax.com",
            "ASTRA_DB_APPLICATION_TOKEN": "AstraCS:test",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "DASHBOARD_PASSWORD": "pw",
        }
        settings = core_config.from_env(with_secrets, env_file=None)  # raises ConfigError if not
        assert settings.models_dir == "/data/models"
        if name == "dashboard":
            assert dashboard_config.from_env(with_secrets, env_file=None).port == 8501
        else:
            port = slack_config.from_env(with_secrets, env_file=None).port
            published = {p.split(":")[1] for p in compose["services"][name]["ports"]}
            assert published == {str(port)}


def test_compose_publishes_each_replica_on_its_own_host_port(compose: dict[str, Any]) -> None:
    host_ports = [
        p.split(":")[0] for name in CODERANK_SERVICES for p in compose["services"][name]["ports"]
    ]
    assert len(host_ports) == len(set(host_ports))
