"""Settings: read once from the environment (and ``.env``) and passed down, frozen."""

from __future__ import annotations

import hashlib
import os
import socket
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from coderank.agents.packaged import DEFAULT_MODEL, PACKAGED_MODELS
from coderank.errors import ConfigError
from coderank.logs import LOG_FORMATS
from coderank.redaction import Redactor

LLM_BACKENDS = ("local", "hf")
LOCAL_MODELS = tuple(PACKAGED_MODELS)
STORES = ("sqlite", "astra")
PAIR_POLICIES = ("top2", "uncertain", "random", "active")
MAX_PROBLEM_CHARS = 4000

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything CodeRank reads from its environment. Build it with :func:`from_env`."""

    llm_backend: str = "local"
    local_model: str = DEFAULT_MODEL  # a packaged GGUF (coderank.agents.packaged)
    local_gguf_path: str | None = None  # wins over local_model
    hf_model: str = "microsoft/Phi-3-mini-128k-instruct"
    hf_endpoint_url: str | None = None
    hf_token: str | None = field(default=None, repr=False)
    llm_max_new_tokens: int = 256
    llm_timeout_s: float = 120.0
    llm_threads: int | None = None  # the embedded model's decoding threads (None: every core)
    reranker_model: str | None = None
    reranker_load_dir: str | None = None
    execution: str = "auto"  # run each answer's code in the bwrap sandbox where it works; "off"
    tester: str = "on"  # a fourth agent writes tests from the problem alone (when execution runs)
    checks_while_voting: bool = False  # show what running the answers showed before the reveal
    # "exclude": flagged voters' votes (coderank.evaluation.voters) count in no figure or export
    flagged_voters: str = "keep"
    store: str = "sqlite"
    astra_endpoint: str | None = None
    astra_token: str | None = field(default=None, repr=False)
    astra_keyspace: str = "default_keyspace"
    astra_request_timeout_s: float = 10.0
    astra_retry_budget_s: float = 30.0
    data_dir: str = "data"
    models_dir: str = "models"
    sqlite_path: str = "data/coderank.db"
    checkpoint_url: str = field(default="data/checkpoints.db", repr=False)  # DATABASE_URL
    cache_dir: str = str(Path.home() / ".cache" / "coderank")
    pair_policy: str = "top2"
    pair_explore: float = 0.2
    vote_quorum: int = 5
    vote_window_hours: float = 24.0
    jobs_url: str = field(default="sqlite:///data/jobs.db", repr=False)  # DATABASE_URL
    # PostgreSQL for replicas on several machines: checkpoints, jobs, locks, leases, the Slack
    # request ledger and pending generations (None: SQLite files and locks in DATA_DIR).
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    replica_id: str = ""  # this process, as the others see it (leases, pending generations)
    replica_lease_s: float = 30.0  # a dead replica's pending generations are taken over after it
    digest_cron: str = "0 9 * * mon"
    digest_tz: str = "UTC"
    digest_grace_hours: float = 12.0
    log_format: str = "text"  # or "json": one JSON object a line

    def redactor(self) -> Redactor:
        """Scrubs these settings' secrets (and every secret shape) from text shown to people."""
        return Redactor(self.secrets())

    def secrets(self) -> tuple[str, ...]:
        """Every secret set here, for the log filter to scrub: the tokens, and a database URL
        with a password (``user:password@`` or ``?password=``), that password as written and
        decoded. A URL without one is no secret (its host is worth seeing in a log)."""
        found = [self.astra_token, self.hf_token]
        for url in {self.database_url, self.checkpoint_url, self.jobs_url}:
            if not url or "://" not in url:
                continue
            parts = urlsplit(url)
            passwords = [
                p for p in (parts.password, *parse_qs(parts.query).get("password", [])) if p
            ]
            if passwords:
                found += [url, *passwords, *(unquote(p) for p in passwords)]
        return tuple(s for s in found if s)


_DEFAULTS = Settings()


class _Env:
    """The merged environment; a blank value counts as unset."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        value = self._values.get(name, "").strip()
        return value or None

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.get(name) or default
        if value not in allowed:
            raise ConfigError(
                f"{name}={value!r} is not valid: expected one of {', '.join(allowed)}"
            )
        return value

    def number(
        self,
        name: str,
        default: T,
        kind: Callable[[str], T],
        ok: Callable[[T], bool],
        accepts: str,
    ) -> T:
        value = self.get(name) or str(default)
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
    env = _Env(read_env(environ, env_file=env_file))
    data_dir = env.get("DATA_DIR") or _DEFAULTS.data_dir
    store = _store_settings(env, data_dir)
    return Settings(
        **_model_settings(env),
        **store,
        **_folder_settings(env, data_dir),
        **_coordination_settings(env, data_dir, store["store"]),
        **_voting_settings(env),
        **_jobs_settings(env),
        log_format=env.choice("LOG_FORMAT", "text", LOG_FORMATS),
    )


# Each part below reads one concern's variables and returns its fields of Settings.


class _ModelSettings(TypedDict):
    llm_backend: str
    local_model: str
    local_gguf_path: str | None
    hf_model: str
    hf_endpoint_url: str | None
    hf_token: str | None
    llm_max_new_tokens: int
    llm_timeout_s: float
    llm_threads: int | None
    reranker_model: str | None
    reranker_load_dir: str | None
    execution: str
    tester: str
    checks_while_voting: bool
    flagged_voters: str


def _model_settings(env: _Env) -> _ModelSettings:
    """The chat model (embedded or Hugging Face), the reranker and execution."""
    reranker_load_dir = env.get("RERANKER_LOAD_DIR")
    if reranker_load_dir and not Path(reranker_load_dir).is_dir():
        raise ConfigError(
            f"RERANKER_LOAD_DIR={reranker_load_dir!r} is not valid: expected a folder that exists"
        )
    local_gguf = env.get("LOCAL_GGUF_PATH")
    if local_gguf and not Path(local_gguf).is_file():
        raise ConfigError(f"LOCAL_GGUF_PATH={local_gguf!r} is not valid: expected a .gguf file")
    backend = env.choice("LLM_BACKEND", "local", LLM_BACKENDS)
    if backend == "hf" and (env.get("HF_HUB_OFFLINE") or "0").lower() in ("1", "true", "yes", "on"):
        raise ConfigError(
            "HF_HUB_OFFLINE is set, which blocks every call of LLM_BACKEND=hf (even to a local "
            "HF_ENDPOINT_URL): unset HF_HUB_OFFLINE or use LLM_BACKEND=local"
        )
    return {
        "llm_backend": backend,
        "local_model": env.choice("LOCAL_MODEL", DEFAULT_MODEL, LOCAL_MODELS),
        "local_gguf_path": local_gguf,
        "hf_model": env.get("HF_MODEL") or _DEFAULTS.hf_model,
        "hf_endpoint_url": env.get("HF_ENDPOINT_URL"),
        "hf_token": env.get("HUGGINGFACEHUB_API_TOKEN"),
        "llm_max_new_tokens": env.number(
            "LLM_MAX_NEW_TOKENS",
            _DEFAULTS.llm_max_new_tokens,
            int,
            lambda n: 1 <= n <= 8192,
            "a whole number from 1 to 8192",
        ),
        "llm_timeout_s": env.number(
            "LLM_TIMEOUT_S",
            _DEFAULTS.llm_timeout_s,
            float,
            lambda s: 0 < s <= 3600,
            "a number of seconds above 0 and at most 3600",
        ),
        "llm_threads": None
        if env.get("LLM_THREADS") is None
        else env.number("LLM_THREADS", 0, int, lambda n: 1 <= n <= 256, "a whole number 1-256"),
        "reranker_model": env.get("RERANKER_MODEL"),
        "reranker_load_dir": reranker_load_dir,
        "execution": env.choice("EXECUTION", "auto", ("auto", "off")),
        "tester": env.choice("TESTER", "on", ("on", "off")),
        "checks_while_voting": env.choice("CHECKS_WHILE_VOTING", "off", ("on", "off")) == "on",
        "flagged_voters": env.choice("FLAGGED_VOTERS", "keep", ("keep", "exclude")),
    }


class _StoreSettings(TypedDict):
    store: str
    sqlite_path: str
    astra_endpoint: str | None
    astra_token: str | None
    astra_keyspace: str
    astra_request_timeout_s: float
    astra_retry_budget_s: float


def _store_settings(env: _Env, data_dir: str) -> _StoreSettings:
    """Where documents are kept: the SQLite file, or Astra DB."""
    store = env.choice("STORE", "sqlite", STORES)
    astra_endpoint = env.get("ASTRA_DB_API_ENDPOINT")
    astra_token = env.get("ASTRA_DB_APPLICATION_TOKEN")
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
    return {
        "store": store,
        "sqlite_path": env.get("SQLITE_PATH") or str(Path(data_dir) / "coderank.db"),
        "astra_endpoint": astra_endpoint,
        "astra_token": astra_token,
        "astra_keyspace": env.get("ASTRA_DB_KEYSPACE") or _DEFAULTS.astra_keyspace,
        "astra_request_timeout_s": env.number(
            "ASTRA_REQUEST_TIMEOUT_S",
            _DEFAULTS.astra_request_timeout_s,
            float,
            lambda s: 0 < s <= 600,
            "a number of seconds above 0 and at most 600",
        ),
        "astra_retry_budget_s": env.number(
            "ASTRA_RETRY_BUDGET_S",
            _DEFAULTS.astra_retry_budget_s,
            float,
            lambda s: 0 <= s <= 3600,
            "a number of seconds from 0 to 3600",
        ),
    }


class _FolderSettings(TypedDict):
    data_dir: str
    models_dir: str
    cache_dir: str


def _folder_settings(env: _Env, data_dir: str) -> _FolderSettings:
    """The data, models and cache folders."""
    return {
        "data_dir": data_dir,
        "models_dir": env.get("MODELS_DIR") or _DEFAULTS.models_dir,
        "cache_dir": env.get("CODERANK_CACHE_DIR") or _DEFAULTS.cache_dir,
    }


class _CoordinationSettings(TypedDict):
    checkpoint_url: str
    jobs_url: str
    database_url: str | None
    replica_id: str
    replica_lease_s: float


POSTGRES = ("postgresql://", "postgres://")


def _coordination_settings(env: _Env, data_dir: str, store: str) -> _CoordinationSettings:
    """What processes share: the graph's checkpoints, the scheduled jobs and, with
    ``DATABASE_URL``, the locks, leases and request ledgers of replicas on several machines.

    A mix that cannot be safe across machines stops start-up, naming the setting.
    """
    database_url = env.get("DATABASE_URL")
    checkpoint_url = env.get("CHECKPOINT_URL")
    jobs_url = env.get("JOBS_URL")
    if (
        checkpoint_url
        and "://" in checkpoint_url
        and not checkpoint_url.startswith(("sqlite:///", *POSTGRES))
    ):
        raise ConfigError(
            f"CHECKPOINT_URL={checkpoint_url.split('://')[0]}://... is not valid: expected a file "
            "path or sqlite:///path (for postgresql://..., set DATABASE_URL)"
        )
    if jobs_url and not jobs_url.startswith(("sqlite:///", "postgresql")):
        raise ConfigError(
            f"JOBS_URL={jobs_url.split('://')[0]}://... is not valid: expected sqlite:///path or "
            "postgresql+psycopg://..."
        )
    replica = env.get("REPLICA_ID") or _default_replica(data_dir)
    lease_s = env.number(
        "REPLICA_LEASE_S", _DEFAULTS.replica_lease_s, float, lambda s: s >= 3, "seconds, at least 3"
    )
    if database_url is None:
        if checkpoint_url and checkpoint_url.startswith(POSTGRES):
            raise ConfigError(
                "CHECKPOINT_URL=postgresql://... is not safe on its own: the per-comparison "
                "locks and the Slack request ledger would stay files on each machine, and votes "
                "would be lost. Set DATABASE_URL=postgresql://... instead (it puts the "
                "checkpoints, jobs, locks and ledgers in PostgreSQL) and unset CHECKPOINT_URL"
            )
        return {
            "checkpoint_url": checkpoint_url or str(Path(data_dir) / "checkpoints.db"),
            "jobs_url": jobs_url or f"sqlite:///{Path(data_dir) / 'jobs.db'}",
            "database_url": None,
            "replica_id": replica,
            "replica_lease_s": lease_s,
        }
    if not database_url.startswith(POSTGRES):
        raise ConfigError("DATABASE_URL is not valid: expected postgresql://user@host:port/db")
    _, rest = database_url.split("://", 1)
    derived = {"CHECKPOINT_URL": database_url, "JOBS_URL": f"postgresql+psycopg://{rest}"}
    for name, value in (("CHECKPOINT_URL", checkpoint_url), ("JOBS_URL", jobs_url)):
        if value and not value.startswith(("postgres", "postgresql+psycopg")):
            raise ConfigError(
                f"{name}={value.split('://')[0]}... cannot be used with DATABASE_URL: it would "
                f"keep part of the coordination on one machine. Unset {name} (DATABASE_URL "
                "holds it)"
            )
        if value and value != derived[name]:
            raise ConfigError(
                f"{name} points at another database than DATABASE_URL, and would be ignored: "
                f"unset {name} (DATABASE_URL holds the checkpoints and the jobs)"
            )
    if store == "sqlite":
        raise ConfigError(
            "STORE=sqlite keeps every document on one machine, which replicas on several "
            "machines (DATABASE_URL) cannot share: use STORE=astra"
        )
    return {
        "checkpoint_url": database_url,
        "jobs_url": f"postgresql+psycopg://{rest}",
        "database_url": database_url,
        "replica_id": replica,
        "replica_lease_s": lease_s,
    }


def _default_replica(data_dir: str) -> str:
    """The host and its data folder: the same after a restart, so a restarted replica takes
    back its own pending work at once."""
    folder = hashlib.blake2b(str(Path(data_dir).resolve()).encode(), digest_size=3).hexdigest()
    return f"{socket.gethostname()}-{folder}"


class _VotingSettings(TypedDict):
    pair_policy: str
    pair_explore: float
    vote_quorum: int
    vote_window_hours: float


def _voting_settings(env: _Env) -> _VotingSettings:
    """Which pair is shown, and when voting closes."""
    return {
        "pair_policy": env.choice("PAIR_POLICY", "top2", PAIR_POLICIES),
        "pair_explore": env.number(
            "PAIR_EXPLORE",
            _DEFAULTS.pair_explore,
            float,
            lambda p: 0.0 <= p <= 1.0,
            "a share from 0 to 1",
        ),
        "vote_quorum": env.number(
            "VOTE_QUORUM",
            _DEFAULTS.vote_quorum,
            int,
            lambda n: n >= 0,
            "a whole number of voters, 0 to close only by hand",
        ),
        "vote_window_hours": env.number(
            "VOTE_WINDOW_HOURS",
            _DEFAULTS.vote_window_hours,
            float,
            lambda h: 0 <= h <= 24 * 365,
            "a number of hours from 0 (never close by time) to 8760",
        ),
    }


class _JobsSettings(TypedDict):
    digest_cron: str
    digest_tz: str
    digest_grace_hours: float


def _jobs_settings(env: _Env) -> _JobsSettings:
    """The weekly digest's schedule."""
    return {
        "digest_cron": _cron(env.get("DIGEST_CRON") or _DEFAULTS.digest_cron),
        "digest_tz": _timezone(env.get("DIGEST_TZ") or _DEFAULTS.digest_tz),
        "digest_grace_hours": env.number(
            "DIGEST_GRACE_HOURS",
            _DEFAULTS.digest_grace_hours,
            float,
            lambda h: 0 < h <= 24 * 7,
            "a number of hours above 0 and at most 168",
        ),
    }
