"""Run as ``python -m tests.replica_process vote ENV_JSON COMPARISON_ID PREFIX COUNT`` to take votes
in a process of its own, as a bot replica does, or as ``python -m tests.replica_process hold
DATABASE_URL KEY`` to hold one comparison's lock until it is killed.

``vote`` builds the services of ENV_JSON (scripted agents, which never run: the comparison is
open already), prints ``ready`` and waits for a line on stdin (so several replicas are let go at
once), then casts COUNT votes through ``Comparisons.vote`` as users PREFIX-0, PREFIX-1, ... and
prints what each voter was told: ``recorded USER CHOICE``, ``closed USER`` or ``error USER TYPE:
MESSAGE``; then ``done``.

``hold`` takes the PostgreSQL lock of KEY, prints ``holding`` and waits (a replica in the middle
of a resume) until it is killed.

:class:`ReplicaProcess` starts one and reads what it prints.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHOICES = ("A", "B", "tie", "both_bad")


def vote(env: dict[str, str], comparison_id: str, prefix: str, count: int) -> None:
    from coderank.config import from_env
    from coderank.errors import CoderankError, VotingClosedError
    from coderank.services import build_services
    from harness.fakes import LengthReranker, fake_agents

    services = build_services(
        from_env(env, env_file=None), agents=fake_agents(), reranker=LengthReranker()
    )
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        user, choice = f"{prefix}-{n}", CHOICES[n % len(CHOICES)]
        try:
            services.comparisons.vote(comparison_id, user=user, choice=choice)
        except VotingClosedError:
            print(f"closed {user}", flush=True)
        except CoderankError as exc:
            print(f"error {user} {type(exc).__name__}: {exc}", flush=True)
        else:
            print(f"recorded {user} {choice}", flush=True)
    services.close()
    print("done", flush=True)


def hold(database_url: str, key: str) -> None:
    from coderank.coordination.postgres import AdvisoryLocks, Postgres

    locks = AdvisoryLocks(Postgres(database_url, size=1, lock_size=1))
    with locks.hold(key):
        print("holding", flush=True)
        sys.stdin.readline()


class ReplicaProcess:
    """One ``python -m tests.replica_process``, its printed lines read as they come."""

    def __init__(self, *args: str, name: str) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.replica_process", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def voting(
        cls, env: dict[str, str], comparison_id: str, *, prefix: str, count: int
    ) -> ReplicaProcess:
        return cls("vote", json.dumps(env), comparison_id, prefix, str(count), name=prefix)

    @classmethod
    def holding(cls, database_url: str, key: str) -> ReplicaProcess:
        return cls("hold", database_url, key, name=f"holder of {key}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)  # it exited

    def next_line(self, *, timeout_s: float = 30) -> str:
        """The next line it prints, waiting up to ``timeout_s``."""
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"{self.name} printed nothing in {timeout_s:g} s") from None
        if line is None:
            raise AssertionError(f"{self.name} exited (code {self.process.wait()})")
        return line

    def expect(self, line: str) -> None:
        got = self.next_line()
        assert got == line, f"{self.name} printed {got!r}, expected {line!r}"

    def lines_until(self, last: str, *, timeout_s: float = 60) -> list[str]:
        """Every line it prints before ``last``."""
        lines = []
        while (line := self.next_line(timeout_s=timeout_s)) != last:
            lines.append(line)
        return lines

    def tell(self, line: str = "") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def __enter__(self) -> ReplicaProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "vote":
        env, comparison_id, prefix, count = args
        vote(json.loads(env), comparison_id, prefix, int(count))
    elif command == "hold":
        hold(*args)
    else:
        raise SystemExit(f"unknown command {command!r}: expected vote or hold")


if __name__ == "__main__":
    main(sys.argv[1:])
