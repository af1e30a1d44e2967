"""Dashboard settings, read once from the environment (and ``.env``) and passed down, frozen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from coderank import config as core_config
from coderank.config import Settings, read_env
from coderank.errors import ConfigError

# The hosts that serve this machine only: any other needs DASHBOARD_PASSWORD.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass(frozen=True)
class DashboardSettings:
    """Where the dashboard listens, its password (kept out of ``repr``) and the admins."""

    host: str = "127.0.0.1"
    port: int = 8501
    password: str | None = field(default=None, repr=False)
    # Voter ids shown who voted what (the same CODERANK_ADMINS as Slack's admins).
    admins: frozenset[str] = frozenset()
    # What an admin types once per session before the page shows who voted what: a voter id is
    # typed, not proven (None: the Voters page is not on the dashboard; Slack has it).
    admin_password: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """The passwords set here, for the log filter to scrub."""
        return tuple(p for p in (self.password, self.admin_password) if p)


def check_exposure(host: str, password: str | None, *, setting: str = "DASHBOARD_HOST") -> None:
    """Refuse to serve beyond this machine without a password (``setting``: what set ``host``).

    Raises:
        ConfigError: ``host`` is not a local one and there is no password.
    """
    if host not in LOCAL_HOSTS and not password:
        raise ConfigError(
            f"{setting}={host!r} serves the dashboard beyond this machine: set "
            "DASHBOARD_PASSWORD as well (or DASHBOARD_HOST=127.0.0.1)"
        )


def from_env(
    environ: Mapping[str, str] | None = None, *, env_file: str | os.PathLike[str] | None = ".env"
) -> DashboardSettings:
    """Build :class:`DashboardSettings`.

    Raises:
        ConfigError: naming the wrong variable (never echoing the password).
    """
    env = read_env(environ, env_file=env_file)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    host = get("DASHBOARD_HOST") or "127.0.0.1"
    port = get("DASHBOARD_PORT") or "8501"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"DASHBOARD_PORT={port!r} is not valid: expected a port number from 1 to 65535"
        )
    # Taken as typed (only blank counts as unset): a password's spaces are part of it.
    password = env.get("DASHBOARD_PASSWORD") or None
    if password is not None and not password.strip():
        password = None
    check_exposure(host, password)
    admins = frozenset(a.strip() for a in (get("CODERANK_ADMINS") or "").split(",") if a.strip())
    admin_password = env.get("DASHBOARD_ADMIN_PASSWORD") or None
    if admin_password is not None and not admin_password.strip():
        admin_password = None
    return DashboardSettings(
        host=host,
        port=int(port),
        password=password,
        admins=admins,
        admin_password=admin_password,
    )


def read_settings() -> tuple[Settings, DashboardSettings]:
    """Every setting the dashboard reads: CodeRank's and its own.

    Raises:
        ConfigError: naming the first wrong variable.
    """
    return core_config.from_env(), from_env()
