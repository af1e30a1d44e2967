"""A control group for each sandboxed run, where this machine lets the process make one: a memory
limit for the whole run (every process of it, and the files it writes to its tmpfs) and a cap on
its processes, neither shared with any other run.

Two layouts are found: cgroup v2 with the ``memory`` and ``pids`` controllers enabled for the
process's own group (a delegated group: systemd's ``Delegate=yes``, a container's cgroup
namespace), and cgroup v1 with writable ``memory`` and ``pids`` hierarchies (a root process in
most containers). Elsewhere :func:`find_cgroups` returns None and the sandbox keeps its
per-process limits (see :mod:`coderank.execution.sandbox`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "coderank-run-"


@dataclass(frozen=True)
class Hierarchy:
    """Where this process's group sits in one hierarchy, and the files a run's group is limited
    by there: (file name, ``memory``, ``pids`` or ``no swap``)."""

    path: Path
    limits: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Cgroups:
    """Makes a group per run under this process's own group(s)."""

    hierarchies: tuple[Hierarchy, ...]
    version: str  # "v1" or "v2"

    def make(self, *, memory_bytes: int, processes: int) -> RunGroup:
        """A new, empty group with these limits.

        Raises:
            OSError: it could not be made (the caller runs nothing).
        """
        name = PREFIX + secrets.token_hex(6)
        made: list[Path] = []
        try:
            for hierarchy in self.hierarchies:
                group = hierarchy.path / name
                group.mkdir()
                made.append(group)
                values = {"memory": memory_bytes, "pids": processes, "no swap": 0}
                for file, kind in hierarchy.limits:
                    if kind == "no swap" and not (group / file).exists():  # no swap accounting
                        continue
                    (group / file).write_text(str(values[kind]))
        except OSError:
            RunGroup(tuple(made)).remove()
            raise
        return RunGroup(tuple(made))


@dataclass(frozen=True)
class RunGroup:
    groups: tuple[Path, ...]

    def add(self, pid: int) -> None:
        """Moves ``pid`` (before it starts any other process) into the group."""
        for group in self.groups:
            (group / "cgroup.procs").write_text(str(pid))

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this run for going over its memory limit."""
        for group in self.groups:
            # v2's memory.events and v1's memory.oom_control both count "oom_kill"s.
            for name in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(OSError, ValueError):
                    lines = (group / name).read_text().splitlines()
                    counts = dict(line.split()[:2] for line in lines if line.strip())
                    if int(counts.get("oom_kill", "0")) > 0:
                        return True
        return False

    def remove(self) -> None:
        """Removes the group (once its processes are gone; a group still busy is left)."""
        for group in self.groups:
            with contextlib.suppress(OSError):
                group.rmdir()


def find_cgroups(root: Path = ROOT) -> Cgroups | None:
    """The layout this process may make run groups in, or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    own = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path.lstrip("/")
    if (root / "cgroup.controllers").exists() and "" in own:  # v2, mounted at the root
        base = root / own[""]
        enabled = (base / "cgroup.subtree_control").read_text().split() if base.exists() else []
        if {"memory", "pids"} <= set(enabled) and os.access(base, os.W_OK):
            limits = (
                ("memory.max", "memory"),
                ("memory.swap.max", "no swap"),
                ("pids.max", "pids"),
            )
            return Cgroups((Hierarchy(base, limits),), "v2")
        return None
    if "memory" in own and "pids" in own:
        memory = root / "memory" / own["memory"]
        pids = root / "pids" / own["pids"]
        if all(p.is_dir() and os.access(p, os.W_OK) for p in (memory, pids)):
            memory_limits = [("memory.limit_in_bytes", "memory")]
            if (memory / "memory.memsw.limit_in_bytes").exists():  # swap accounting is on
                memory_limits.append(("memory.memsw.limit_in_bytes", "memory"))
            return Cgroups(
                (
                    Hierarchy(memory, tuple(memory_limits)),
                    Hierarchy(pids, (("pids.max", "pids"),)),
                ),
                "v1",
            )
    return None
