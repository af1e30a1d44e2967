"""Run as ``python -m tests.jobs_process ENV_JSON OWNER LEASE_S RAN_FILE`` to run the scheduled
jobs in a process of its own, as a bot replica does: ``Jobs`` over the ``JOBS_URL`` of ENV_JSON,
with tasks that each append ``<task> <args...> <OWNER>`` to RAN_FILE.

It prints ``ready`` once imported and waits for a line on stdin (so several can be let go at
once), then starts the jobs and prints ``owner True`` or ``owner False``, and again each time that
changes; on a second line on stdin (or its end) it shuts the jobs down and prints ``stopped``.

:class:`JobsProcess` starts one and reads what it prints."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coderank.config import from_env
from coderank.jobs.scheduler import CLOSE_DUE_JOB, CLOSE_TASK, DIGEST_JOB, Jobs

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> None:
    env, owner, lease_s, ran = json.loads(argv[0]), argv[1], float(argv[2]), Path(argv[3])
    print("ready", flush=True)
    sys.stdin.readline()

    def task(name: str) -> Callable[..., None]:
        def run(*args: str) -> None:
            with ran.open("a") as f:  # one short appended line: whole, whatever the others do
                f.write(" ".join((name, *args, owner)) + "\n")

        return run

    tasks = {name: task(name) for name in (DIGEST_JOB, CLOSE_DUE_JOB, CLOSE_TASK)}
    jobs = Jobs(from_env(env, env_file=None), tasks, owner=owner, lease_s=lease_s)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    jobs.start()
    shown = None
    while not stop.is_set():
        if jobs.owner != shown:
            shown = jobs.owner
            print(f"owner {shown}", flush=True)
        time.sleep(0.01)
    jobs.shutdown()
    print("stopped", flush=True)


class JobsProcess:
    """One ``python -m tests.jobs_process``, its printed lines read as they come."""

    def __init__(self, env: dict[str, str], owner: str, *, lease_s: float, ran: Path) -> None:
        self.name = owner
        args = [json.dumps(env), owner, str(lease_s), str(ran)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.jobs_process", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    def next_line(self, *, timeout_s: float = 20) -> str:
        """The next line it prints, waiting up to ``timeout_s``."""
        try:
            return self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(
                f"{self.name} printed nothing in {timeout_s:g} s (exit code {self.process.poll()})"
            ) from None

    def tell(self, line: str = "") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def __enter__(self) -> JobsProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()


if __name__ == "__main__":
    main(sys.argv[1:])
