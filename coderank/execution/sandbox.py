"""Run untrusted Python inside bubblewrap (``bwrap``): the only module that starts it.

Every namespace is unshared (no network, not even loopback; its own PIDs), the filesystem is a
read-only ``/usr`` (the system Python and its standard library), a private ``/tmp`` of
``tmp_mb`` and ``/dev/shm`` of ``shm_mb`` (memory-backed, so they are sized), ``/proc`` and a
read-only ``/dev``; the environment is empty, for the sandboxed program *and* for ``bwrap``
itself (it is PID 1 in the sandbox, and its ``/proc/1/environ`` would otherwise show the bot's
tokens). Limits: CPU seconds, address space, processes, file size, no core dumps; a wall-clock
timeout; at most ``output_bytes`` of output are kept, and a program writing more is stopped.

What one run may take, and from whom:

- Started by root, each run has a user id of its own (from ``RUN_UIDS``, never a real user's),
  so its process limit is its own: a run holding every process it may have cannot stop the
  runs beside it. Otherwise the runs share the bot's user, and each may start ``processes``
  tasks beyond what that user runs already (:func:`_nproc`).
- Where a control group can be made (:mod:`coderank.execution.cgroups`), each run has one:
  ``memory_mb`` for the whole run (every process, and its ``/tmp``), ``processes`` in all.
- Elsewhere (no writable cgroup), ``memory_mb`` holds for each process, so a run may use up to
  ``processes`` times it, and its tmpfs files count against no limit but their sizes.
  :meth:`Sandbox.isolation` says which holds, for the status line.

``bwrap`` leaves its namespace's PID 1 behind when it exits, for PID 1 of the machine to reap;
where that is a container's bot process or an init that does not reap (seen here), the zombies
pile up and, counted against the user's process limit, stop every later run ("Can't fork"). So
each run starts under a small reaper (the system Python, a child subreaper) that waits for every
descendant and exits with ``bwrap``'s status.

Code is never run without the sandbox: :func:`probe` says whether it can start here, and the
callers switch execution off (and say so) when it cannot.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, cast

from coderank.execution.cgroups import Cgroups, RunGroup, find_cgroups

SANDBOX_VERSION = "bwrap-3"  # stored with each result: bump when the sandbox or limits change
# Runs are given user ids of their own from here when started by root: far above any account's.
RUN_UIDS = range(0x7FFF0000, 0x7FFF0000 + 4096)
PR_SET_CHILD_SUBREAPER = 36
GO = b"\x00"  # sent on stdin once the run is in its control group; the program follows
# Waits for GO (the run is in its control group by then), runs the command in its arguments,
# reaps every process left to it, exits with the command's status (128 + the signal's number
# when a signal ended it, as a shell says it).
REAPER = f"""
import ctypes, os, sys
if os.read(0, 1) != {GO!r}:
    sys.exit(125)
ctypes.CDLL(None, use_errno=True).prctl({PR_SET_CHILD_SUBREAPER}, 1, 0, 0, 0)
child = os.fork()
if child == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
code = 1
while True:
    try:
        pid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    if pid == child:
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code
sys.exit(code)
"""


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 5
    memory_mb: int = 512
    processes: int = 32
    file_mb: int = 8
    tmp_mb: int = 64
    shm_mb: int = 8
    wall_s: float = 10.0
    output_bytes: int = 64_000


@dataclass(frozen=True)
class RunResult:
    """What a sandboxed run did. ``stopped`` says why it was stopped, if it was: ``timeout``,
    ``output`` (too much of it) or ``signal SIGKILL`` (e.g. the CPU limit) and the like."""

    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.stopped is None


@dataclass(frozen=True)
class Sandbox:
    """``bwrap`` over the system Python (``python``: a path under ``/usr``)."""

    python: str = "/usr/bin/python3"
    bwrap: str = "bwrap"
    limits: Limits = Limits()

    def command(self, *, nproc: int | None = None) -> list[str]:
        """The command line of one run; ``nproc`` is its RLIMIT_NPROC (``processes`` unless
        given: see :func:`_nproc`)."""
        limits = self.limits
        prlimit = [
            "prlimit",
            f"--cpu={limits.cpu_s}",
            f"--as={limits.memory_mb * 1024 * 1024}",
            f"--nproc={limits.processes if nproc is None else nproc}",
            f"--fsize={limits.file_mb * 1024 * 1024}",
            "--core=0",
            "--",
        ]
        bwrap = [
            self.bwrap,
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--setenv", "PATH", "/usr/bin",
            "--setenv", "HOME", "/tmp",
            "--setenv", "LANG", "C.UTF-8",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(limits.shm_mb * 1024 * 1024), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",
            "--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp",
            "--chdir", "/tmp",
            "--",
            self.python, "-I", "-X", "utf8", "-",
        ]  # fmt: skip
        return [self.python, "-I", "-S", "-c", REAPER, *prlimit, *bwrap]

    def isolation(self) -> str:
        """What holds between runs here, in words (for the status line)."""
        found = _cgroups()
        memory = (
            f"{self.limits.memory_mb} MB a run (cgroup {found.version})"
            if found is not None
            else f"{self.limits.memory_mb} MB a process, no cgroup to limit a whole run"
        )
        users = "a user id per run" if os.geteuid() == 0 else "one user id for every run"
        return f"memory {memory}; {users}"

    def run(self, program: str) -> RunResult:
        """Run ``program`` (Python source, sent on stdin) in the sandbox."""
        started = time.monotonic()
        limits = self.limits
        group = None
        found = _cgroups()
        if found is not None:
            with contextlib.suppress(OSError):  # per-process limits still hold without it
                group = found.make(
                    memory_bytes=limits.memory_mb * 1024 * 1024, processes=limits.processes
                )
        try:
            with _run_uid() as uid:
                process = subprocess.Popen(
                    self.command(nproc=_nproc(uid, limits.processes)),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={},  # bwrap is PID 1 inside: its own environment must hold nothing either
                    start_new_session=True,
                    user=uid,
                    group=uid,
                    extra_groups=[] if uid is not None else None,
                    cwd="/",
                )
                return self._watch(process, program, group, started)
        finally:
            if group is not None:
                group.remove()

    def _watch(
        self,
        process: subprocess.Popen[bytes],
        program: str,
        group: RunGroup | None,
        started: float,
    ) -> RunResult:
        overflow = threading.Event()
        out = _Capped(process.stdout, self.limits.output_bytes, overflow)
        err = _Capped(process.stderr, self.limits.output_bytes, overflow)
        stopped: str | None = None
        try:
            assert process.stdin is not None
            if group is not None:
                try:
                    group.add(process.pid)  # the reaper waits for GO: nothing has forked yet
                except OSError:
                    group = None  # the per-process limits still hold
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(GO + program.encode())
                process.stdin.close()
            deadline = started + self.limits.wall_s
            while process.poll() is None:
                if overflow.is_set():
                    stopped = "output"
                    break
                if time.monotonic() > deadline:
                    stopped = "timeout"
                    break
                time.sleep(0.01)
        finally:
            if process.poll() is None:
                _kill(process)
            process.wait()
            out.join()
            err.join()
        code = process.returncode
        seconds = time.monotonic() - started
        if stopped is None and code is not None:
            stopped = _signalled(code if code < 0 else code - 128 if code > 128 else 0)
            cpu_signal = stopped and ("KILL" in stopped or "XCPU" in stopped)
            if cpu_signal and seconds >= self.limits.cpu_s * 0.8:
                stopped = "cpu limit"
        if group is not None and group.out_of_memory():
            stopped = "memory limit"
        return RunResult(
            exit_code=None if stopped else code,
            stdout=out.text(),
            stderr=err.text(),
            seconds=seconds,
            stopped=stopped,
        )


_free_uids = list(RUN_UIDS)
_uids_lock = threading.Lock()


@contextlib.contextmanager
def _run_uid() -> Iterator[int | None]:
    """A user id no other run of this process holds (None when not root: the run keeps ours).
    Ids are drawn at random, so another process on the machine rarely draws the same one."""
    if os.geteuid() != 0:
        yield None
        return
    with _uids_lock:
        uid = _free_uids.pop(secrets.randbelow(len(_free_uids)))
    try:
        yield uid
    finally:
        with _uids_lock:
            _free_uids.append(uid)


def _nproc(uid: int | None, processes: int) -> int:
    """RLIMIT_NPROC for a run: it counts every task (process or thread) of the run's real user.
    With a user id of its own, that is the run alone: ``processes``. Without one (not root, as in
    the image), the user also runs this process's threads, the model's and other runs': the limit
    is what the user runs now plus ``processes``, or no run could even start its namespaces."""
    if uid is not None:
        return processes
    return _tasks_of(os.getuid()) + processes


def _tasks_of(uid: int) -> int:
    """How many tasks (threads included) the user ``uid`` runs now, read from ``/proc``."""
    tasks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:  # gone meanwhile
            continue
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            tasks += int(fields.get("Threads", "1").strip())
    return tasks


@functools.cache
def _cgroups() -> Cgroups | None:
    return find_cgroups()


def _signalled(number: int) -> str | None:
    """``signal SIGKILL`` for a run ended by a signal (bwrap reports 128 + its number)."""
    number = abs(number)
    if number == 0:
        return None
    try:
        return f"signal {signal.Signals(number).name}"
    except ValueError:
        return f"signal {number}"


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class _Capped(threading.Thread):
    """Reads a pipe to its end, keeping the first ``limit`` bytes; sets ``overflow`` past it."""

    def __init__(self, pipe: IO[bytes] | None, limit: int, overflow: threading.Event) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.overflow = pipe, limit, overflow
        self.kept = bytearray()
        self.start()

    def run(self) -> None:
        if self.pipe is None:
            return
        total = 0
        pipe = cast("io.BufferedReader", self.pipe)
        while chunk := pipe.read1(65536):
            total += len(chunk)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
            if total > self.limit:
                self.overflow.set()

    def text(self) -> str:
        return self.kept.decode(errors="replace")


def probe(sandbox: Sandbox) -> str | None:
    """None if ``sandbox`` can run code here, else why not (one line)."""
    if shutil.which(sandbox.bwrap) is None:
        return f"{sandbox.bwrap} is not installed (Debian package bubblewrap)"
    if shutil.which("prlimit") is None:
        return "prlimit is not installed (Debian package util-linux)"
    if not os.path.isfile(sandbox.python) or not sandbox.python.startswith("/usr/"):
        return f"{sandbox.python} is not a Python under /usr (Debian package python3)"
    try:
        result = sandbox.run("print(6 * 7)")
    except OSError as exc:
        return f"{sandbox.bwrap} cannot start: {exc}"
    if not result.ok or result.stdout.strip() != "42":
        detail = (result.stderr.strip().splitlines() or [result.stopped or "no output"])[-1]
        return f"{sandbox.bwrap} cannot create its namespaces here: {detail}"
    return None
