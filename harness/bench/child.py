"""Benchmarks measured in a child process, so its time and peak memory are its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def child_result(module: str, *args: str, python_path: str | None = None) -> dict[str, Any]:
    """Run ``python -m module args`` offline and return the JSON object it prints last.

    ``python_path`` goes first on the child's ``PYTHONPATH`` (e.g. another build of a package).
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join([python_path, str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
