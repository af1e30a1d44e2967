"""Settings for a run on these machines: every file under one folder, the models offline."""

from __future__ import annotations

import os
from pathlib import Path

from coderank.config import Settings, from_env

ROOT = Path(__file__).resolve().parent.parent
# Shared with `make demo` so the GGUF is assembled once per machine, not once per test run.
MODEL_CACHE = os.environ.get("CODERANK_CACHE_DIR") or str(Path.home() / ".cache" / "coderank")


def make_env(tmp: Path, **extra: str) -> dict[str, str]:
    """An environment for ``from_env`` with every file under ``tmp``."""
    return {
        "DATA_DIR": str(tmp / "data"),
        "MODELS_DIR": str(tmp / "models"),
        "CODERANK_CACHE_DIR": MODEL_CACHE,
        **extra,
    }


def make_settings(tmp: Path, **extra: str) -> Settings:
    return from_env(make_env(tmp, **extra), env_file=None)
