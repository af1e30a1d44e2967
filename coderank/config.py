"""Settings: read once from the environment (and ``.env``) and passed down, frozen."""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from coderank.errors import ConfigError

LLM_BACKENDS = ("local", "hf")
STORES = ("sqlite", "astra")
PAIR_POLICIES = ("top2", "uncertain", "random")
MAX_PROBLEM_CHARS = 4000

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything CodeRank reads from its environment. Build it with :func:`from_env`."""

    llm_backend: str = "local"
    local_gguf_path: str | None = None
    hf_model: str = "microsoft/Phi-3-mini-128k-instruct"
    hf_endpoint_url: str | None = None
    hf_token: str | None = field(default=None, repr=False)
    llm_max_new_tokens: int = 256
    llm_timeout_s: float = 120.0
    reranker_model: str | None = None
    reranker_load_dir: str | None = None
    store: str = "sqlite"
    astra_endpoint: str | None = None
    astra_token: str | None = field(default=None, repr=False)
    astra_keyspace: str = "default_keyspace"
    astra_request_timeout_s: float = 10.0
    astra_retry_budget_s: float = 30.0
    data_dir: str = "data"
    models_dir: str = "models"
    sqlite_path: str = "data/coderank.db"
    checkpoint_url: str = "data/checkpoints.db"
    cache_dir: str = str(Path.home() / ".cache" / "coderank")
    pair_policy: str = "top2"
    pair_explore: float = 0.2
    vote_quorum: int = 5
    vote_window_hours: float = 24.0
    jobs_url: str = "sqlite:///data/jobs.db"
    digest_cron: str = "0 9 * * mon"
    digest_tz: str = "UTC"
    digest_grace_hours: float = 12.0


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not valid: expected one of {', '.join(allowed)}")
    return value


def _number(
    name: str, value: str, kind: Callable[[str], T], ok: Callable[[T], bool], accepts: str
) -> T:
    try:
        parsed = kind(value)
    except ValueError:
        parsed = None
    if parsed is None or not ok(parsed):
        raise ConfigError(f"{name}={value!r} is not valid: expected {accepts}")
    return parsed


def _cron(value: str) -> str:
    """Five crontab fields; the scheduler checks each field's values when it starts."""
    if len(value.split()) != 5:
        raise ConfigError(
            f"DIGEST_CRON={value!r} is not valid: expected five crontab fields "
            "(minute hour day month weekday), e.g. '0 9 * * mon'"
        )
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"DIGEST_TZ={value!r} is not valid: expected an IANA time zone such as "
            "Europe/Paris or UTC"
        ) from None
    return value


def _read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    from dotenv import dotenv_values

    if not Path(path).is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def read_env(
    environ: Mapping[str, str] | None = None, *, env_file: str | os.PathLike[str] | None = ".env"
) -> dict[str, str]:
    """``environ`` (default ``os.environ``) over the variables of ``env_file``."""
    env: dict[str, str] = _read_env_file(env_file) if env_file else {}
    env.update(os.environ if environ is None else environ)
    return env


def from_env(
    environ: Mapping[str, str] | None = None, *, env_file: str | os.PathLike[str] | None = ".env"
) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``) over ``env_file``.

    Raises:
        ConfigError: naming the first variable whose value is not accepted.
    """
    env = read_env(environ, env_file=env_file)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    defaults = Settings()
    data_dir = get("DATA_DIR") or defaults.data_dir
    reranker_load_dir = get("RERANKER_LOAD_DIR")
    if reranker_load_dir and not Path(reranker_load_dir).is_dir():
        raise ConfigError(
            f"RERANKER_LOAD_DIR={reranker_load_dir!r} is not valid: expected a folder that exists"
        )
    local_gguf = get("LOCAL_GGUF_PATH")
    if local_gguf and not Path(local_gguf).is_file():
        raise ConfigError(f"LOCAL_GGUF_PATH={local_gguf!r} is not valid: expected a .gguf file")
    backend = _choice("LLM_BACKEND", get("LLM_BACKEND") or "local", LLM_BACKENDS)
    if backend == "hf" and (get("HF_HUB_OFFLINE") or "0").lower() in ("1", "true", "yes", "on"):
        raise ConfigError(
            "HF_HUB_OFFLINE is set, which blocks every call of LLM_BACKEND=hf (even to a local "
            "HF_ENDPOINT_URL): unset HF_HUB_OFFLINE or use LLM_BACKEND=local"
        )
    store = _choice("STORE", get("STORE") or "sqlite", STORES)
    astra_endpoint, astra_token = get("ASTRA_DB_API_ENDPOINT"), get("ASTRA_DB_APPLICATION_TOKEN")
    if store == "astra" and not astra_endpoint:
        raise ConfigError(
            "ASTRA_DB_API_ENDPOINT is missing: STORE=astra needs the database's API endpoint "
            "(https://<db-id>-<region>.apps.astra.datastax.com)"
        )
    if astra_endpoint and not astra_endpoint.startswith(("https://", "http://")):
        raise ConfigError(
            f"ASTRA_DB_API_ENDPOINT={astra_endpoint!r} is not valid: expected an https:// URL"
        )
    if store == "astra" and not astra_token:
        raise ConfigError(
            "ASTRA_DB_APPLICATION_TOKEN is missing: STORE=astra needs an application token "
            "(AstraCS:...)"
        )
    checkpoint_url = get("CHECKPOINT_URL") or str(Path(data_dir) / "checkpoints.db")
    if "://" in checkpoint_url and not checkpoint_url.startswith(
        ("sqlite:///", "postgresql://", "postgres://")
    ):
        raise ConfigError(
            f"CHECKPOINT_URL={checkpoint_url.split('://')[0]}://... is not valid: expected a file "
            "path, sqlite:///path or postgresql://..."
        )
    jobs_url = get("JOBS_URL") or f"sqlite:///{Path(data_dir) / 'jobs.db'}"
    if not jobs_url.startswith(("sqlite:///", "postgresql")):
        raise ConfigError(
            f"JOBS_URL={jobs_url.split('://')[0]}://... is not valid: expected sqlite:///path or "
            "postgresql+psycopg://..."
        )

    return Settings(
        llm_backend=backend,
        local_gguf_path=local_gguf,
        hf_model=get("HF_MODEL") or defaults.hf_model,
        hf_endpoint_url=get("HF_ENDPOINT_URL"),
        hf_token=get("HUGGINGFACEHUB_API_TOKEN"),
        llm_max_new_tokens=_number(
            "LLM_MAX_NEW_TOKENS",
            get("LLM_MAX_NEW_TOKENS") or str(defaults.llm_max_new_tokens),
            int,
            lambda n: 1 <= n <= 8192,
            "a whole number from 1 to 8192",
        ),
        llm_timeout_s=_number(
            "LLM_TIMEOUT_S",
            get("LLM_TIMEOUT_S") or str(defaults.llm_timeout_s),
            float,
            lambda s: 0 < s <= 3600,
            "a number of seconds above 0 and at most 3600",
        ),
        reranker_model=get("RERANKER_MODEL"),
        reranker_load_dir=reranker_load_dir,
        store=store,
        astra_endpoint=astra_endpoint,
        astra_token=astra_token,
        astra_keyspace=get("ASTRA_DB_KEYSPACE") or defaults.astra_keyspace,
        astra_request_timeout_s=_number(
            "ASTRA_REQUEST_TIMEOUT_S",
            get("ASTRA_REQUEST_TIMEOUT_S") or str(defaults.astra_request_timeout_s),
            float,
            lambda s: 0 < s <= 600,
            "a number of seconds above 0 and at most 600",
        ),
        astra_retry_budget_s=_number(
            "ASTRA_RETRY_BUDGET_S",
            get("ASTRA_RETRY_BUDGET_S") or str(defaults.astra_retry_budget_s),
            float,
            lambda s: 0 <= s <= 3600,
            "a number of seconds from 0 to 3600",
        ),
        data_dir=data_dir,
        models_dir=get("MODELS_DIR") or defaults.models_dir,
        sqlite_path=get("SQLITE_PATH") or str(Path(data_dir) / "coderank.db"),
        checkpoint_url=checkpoint_url,
        cache_dir=get("CODERANK_CACHE_DIR") or defaults.cache_dir,
        pair_policy=_choice("PAIR_POLICY", get("PAIR_POLICY") or "top2", PAIR_POLICIES),
        pair_explore=_number(
            "PAIR_EXPLORE",
            get("PAIR_EXPLORE") or str(defaults.pair_explore),
            float,
            lambda p: 0.0 <= p <= 1.0,
            "a share from 0 to 1",
        ),
        vote_quorum=_number(
            "VOTE_QUORUM",
            get("VOTE_QUORUM") or str(defaults.vote_quorum),
            int,
            lambda n: n >= 0,
            "a whole number of voters, 0 to close only by hand",
        ),
        vote_window_hours=_number(
            "VOTE_WINDOW_HOURS",
            get("VOTE_WINDOW_HOURS") or str(defaults.vote_window_hours),
            float,
            lambda h: 0 <= h <= 24 * 365,
            "a number of hours from 0 (never close by time) to 8760",
        ),
        jobs_url=jobs_url,
        digest_cron=_cron(get("DIGEST_CRON") or defaults.digest_cron),
        digest_tz=_timezone(get("DIGEST_TZ") or defaults.digest_tz),
        digest_grace_hours=_number(
            "DIGEST_GRACE_HOURS",
            get("DIGEST_GRACE_HOURS") or str(defaults.digest_grace_hours),
            float,
            lambda h: 0 < h <= 24 * 7,
            "a number of hours above 0 and at most 168",
        ),
    )
