"""Settings for a run on these machines: every file under one folder, the models offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from coderank.config import Settings, from_env

ROOT = Path(__file__).resolve().parent.parent
# Shared with `make demo` so the GGUF is assembled once per machine, not once per test run.
MODEL_CACHE = os.environ.get("CODERANK_CACHE_DIR") or str(Path.home() / ".cache" / "coderank")
# The packaged model the tests generate with: the fast Qwen2.5-Coder-0.5B. The default (1.5B) has
# real runs of its own (tests pass LOCAL_MODEL=DEFAULT_MODEL); its quality is the benchmark's.
TEST_MODEL = "qwen2.5-coder-0.5b"


def make_env(tmp: Path, **extra: str) -> dict[str, str]:
    """An environment for ``from_env`` with every file under ``tmp``, ``LOCAL_MODEL=TEST_MODEL``
    (unless ``extra`` names another) and this process's ``LLM_THREADS``, if set (the test
    workers set it)."""
    return {
        "DATA_DIR": str(tmp / "data"),
        "MODELS_DIR": str(tmp / "models"),
        "CODERANK_CACHE_DIR": MODEL_CACHE,
        "LOCAL_MODEL": TEST_MODEL,
        **({"LLM_THREADS": os.environ["LLM_THREADS"]} if "LLM_THREADS" in os.environ else {}),
        **extra,
    }


def make_settings(tmp: Path, **extra: str) -> Settings:
    return from_env(make_env(tmp, **extra), env_file=None)


def run_script(name: str, *args: str, tmp: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """``scripts/<name>`` run from ``tmp`` with ``make_env(tmp, **extra)``, its output captured."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=tmp,
        env={**os.environ, **make_env(tmp, **extra)},
        capture_output=True,
        text=True,
        timeout=120,
    )
