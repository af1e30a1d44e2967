"""The dashboard as a user starts it, ``python -m dashboard``, on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.servers import free_port, wait_http
from harness.settings import ROOT


@dataclass(frozen=True)
class Dashboard:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def dashboard_env(env: Mapping[str, str], port: int) -> dict[str, str]:
    """The child's environment: this one, the repo importable, ``env`` over it."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DASHBOARD_PORT": str(port),
        **env,
    }


@contextlib.contextmanager
def running_dashboard(
    cwd: Path, env: Mapping[str, str], *, without: tuple[str, ...] = ()
) -> Iterator[Dashboard]:
    """Serve the dashboard from ``cwd`` (its ``.env`` is not the repo's) until the block ends;
    ``without``: variables removed from the child's environment."""
    port = free_port()
    child = dashboard_env(env, port)
    for name in without:
        child.pop(name, None)
    log = cwd / f"dashboard-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard"], cwd=cwd, env=child, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(f"{url}/_stcore/health", timeout_s=60, proc=proc)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{log.read_text()}") from exc
        yield Dashboard(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
