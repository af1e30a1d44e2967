"""Answers that attack the checks or the runs beside them, in the real sandbox: a report forged
from inside the run, processes held to starve other runs, memory taken by many processes, and
files written to the memory-backed ``/tmp`` and ``/dev``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from coderank.execution import Executor
from coderank.execution.cgroups import find_cgroups
from coderank.execution.checks import Check, check_answer
from coderank.execution.sandbox import Limits, Sandbox
from harness.settings import ROOT

SANDBOX = Sandbox(limits=Limits(cpu_s=4, wall_s=8.0))
IMAGE_UID = 10001  # the Dockerfile's user
ADD = [Check("assert add(1, 2) == 3", "tester"), Check("assert add(-1, 1) == 0", "tester")]

# Finds the run's report marker in the harness's own strings, prints a report that says every
# test passed, and leaves before the harness can print the true one. `add` is never defined.
FORGE_FROM_MEMORY = """
import gc, json, os, sys
marker = next(o for o in gc.get_objects() if isinstance(o, str) and o.startswith("@@coderank-"))
said_passed = {"parsed": True, "ran": True, "error": None,
               "results": [None, None, [{"value": ["b", True]}], [{"value": ["b", True]}]]}
for results in ([None, None], [[{"value": ["b", True]}], [{"value": ["b", True]}]]):
    said_passed["results"] = results
    sys.__stdout__.write("\\n" + marker + json.dumps(said_passed) + "\\n")
sys.__stdout__.flush()
os._exit(0)
"""
# The same through the harness's globals, as the probe of issue 29 did it.
FORGE_FROM_MAIN = """
import __main__, json, os, sys
marker = getattr(__main__, "MARKER", None) or next(
    v for v in vars(__main__).values() if isinstance(v, str) and v.startswith("@@coderank-"))
plan = getattr(__main__, "PLAN", [])
print(marker + json.dumps({"parsed": True, "ran": True, "error": None,
                           "results": [[{"value": ["b", True]}] for _ in plan] or [None, None]}))
os._exit(0)
"""


@pytest.mark.parametrize("hostile", [FORGE_FROM_MEMORY, FORGE_FROM_MAIN], ids=["gc", "__main__"])
def test_a_report_forged_from_inside_the_run_passes_nothing(hostile: str) -> None:
    forged = check_answer(SANDBOX, hostile, ADD)
    assert forged.passed == 0, forged
    honest = check_answer(SANDBOX, "def add(a, b):\n    return a + b\n", ADD)
    assert (honest.passed, honest.total) == (2, 2), honest


def test_a_failed_test_says_what_the_call_returned() -> None:
    wrong = check_answer(SANDBOX, "def add(a, b):\n    return abs(a) + b\n", ADD)
    assert wrong.outcomes == [True, False]
    assert wrong.failures == ["AssertionError: add(-1, 1) returned 2"]


@pytest.mark.parametrize(
    ("test", "passes"),
    [
        ("assert add(0.1, 0.2) == 0.30000000000000004", True),
        ("assert abs(add(0.1, 0.2) - 0.3) < 1e-9", True),
        ("assert add('a', 'b') in ('ab', 'ba') and not add(0, 0)", True),
        ("assert add([1], [2]) == [1, 2] != (1, 2)", True),
        ("assert add((1,), (2,)) == (1, 2)", True),
        ("assert add(1, 2) is not None", True),
        ("assert add(True, True) == 2", True),
        ("assert add(10**30, 1) == 10**30 + 1", True),
        ("assert add(1, 2) > 3 or add(1, 1) == 2", True),
        ("assert add(1, 2) == 4", False),
        ("assert add(1, 'x') == 1", False),  # TypeError in the run
        ("assert add(1, 2) < 'a'", False),  # TypeError here: int < str
        ("assert object() == add(1, 2)", False),  # not a value that can be judged here
    ],
)
def test_tests_are_judged_on_the_values_the_run_reports(test: str, passes: bool) -> None:
    done = check_answer(SANDBOX, "def add(a, b):\n    return a + b\n", [Check(test, "tester")])
    assert done.ran and done.outcomes == [passes], done


def test_one_run_holding_every_process_it_may_have_starves_no_other_run() -> None:
    if os.geteuid() != 0:
        pytest.skip("runs have user ids of their own only when started by root")  # CI is root
    hog = Sandbox(limits=Limits(cpu_s=20, wall_s=20.0))
    holding = (
        "import os, time\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(15); os._exit(0)\n"
        "    except OSError:\n"
        "        break\n"
        "print('holding', flush=True)\n"
        "time.sleep(15)\n"
    )
    thread = threading.Thread(target=hog.run, args=(holding,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while _sandboxed_processes() < Limits().processes - 2:  # the hog holds its limit
        assert time.monotonic() < deadline, "the hog never held its processes"
        time.sleep(0.05)
    beside = [SANDBOX.run("print(6 * 7)") for _ in range(2)]
    assert [r.stdout.strip() for r in beside] == ["42", "42"], beside


def test_many_processes_share_one_memory_limit_for_the_whole_run() -> None:
    program = (
        "import os\n"
        "kids = []\n"
        "for _ in range(4):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = bytearray(300 * 1024 * 1024)\n"
        "        for i in range(0, len(block), 4096): block[i] = 1\n"
        "        os._exit(0)\n"
        "    kids.append(pid)\n"
        "print(sum(os.waitpid(k, 0)[1] == 0 for k in kids), 'of 4 got their memory')\n"
    )
    result = Sandbox(limits=Limits(cpu_s=10, wall_s=20.0, memory_mb=512)).run(program)
    status = Executor(sandbox=SANDBOX).status
    if find_cgroups() is None:  # said by the status line: the limit holds per process only
        assert "4 of 4" in result.stdout
        assert "memory 512 MB a process, no cgroup to limit a whole run" in status, status
        return
    assert result.stopped == "memory limit", result
    assert "memory 512 MB a run (cgroup" in status, status


def test_memory_backed_files_are_sized_and_dev_is_read_only() -> None:
    program = (
        "def fill(path):\n"
        "    written = 0\n"
        "    try:\n"
        "        with open(path, 'wb') as f:\n"
        "            for _ in range(1024):\n"
        "                f.write(b'x' * 1024 * 1024); written += 1\n"
        "    except OSError as exc:\n"
        "        return f'{written} MB then {type(exc).__name__} {exc.errno}'\n"
        "    return f'{written} MB'\n"
        "for path in ('/tmp/a', '/tmp/b', '/dev/shm/a', '/dev/a'):\n"
        "    print(path, fill(path))\n"
    )
    limits = Limits(cpu_s=10, wall_s=20.0, file_mb=4096, tmp_mb=64, shm_mb=8)
    result = Sandbox(limits=limits).run(program)
    said = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    tmp_total = int(said["/tmp/a"].split()[0]) + int(said["/tmp/b"].split()[0])
    assert tmp_total <= 64, said
    assert said["/tmp/a"].endswith("OSError 28") and said["/tmp/b"].endswith("OSError 28"), said
    assert int(said["/dev/shm/a"].split()[0]) <= 8 and said["/dev/shm/a"].endswith("28"), said
    assert said["/dev/a"] == "0 MB then OSError 30", said  # a read-only file system


def _sandboxed_processes() -> int:
    count = 0
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                count += b"python3\x00-I\x00-X\x00utf8\x00-" in f.read()
        except OSError:
            continue
    return count


# A process with as many threads as the bot has (its listener pool alone is 32), running a
# sandbox: the image runs the bot as a user of its own, not root.
MANY_THREADS = """
import sys, threading
from coderank.execution.sandbox import Sandbox
stop = threading.Event()
for _ in range(64):
    threading.Thread(target=stop.wait, daemon=True).start()
print(Sandbox().run("print(6 * 7)").stdout.strip(), flush=True)
stop.set()
"""


def test_a_process_of_many_threads_not_root_still_runs_code() -> None:
    # RLIMIT_NPROC counts every thread of the run's user: at 32, each run of a bot that is not
    # root failed with "bwrap: Creating new namespace failed: Resource temporarily unavailable".
    as_root = os.geteuid() == 0
    with tempfile.TemporaryDirectory() as folder:  # a copy the image's user can read
        shutil.copytree(ROOT / "coderank", Path(folder) / "coderank")
        for path in [Path(folder), *Path(folder).rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        done = subprocess.run(
            ["/usr/bin/python3", "-c", MANY_THREADS],  # Debian's: the sandbox's own Python
            cwd=folder,
            env={"PYTHONPATH": folder, "PATH": "/usr/bin:/bin"},
            user=IMAGE_UID if as_root else None,
            group=IMAGE_UID if as_root else None,
            extra_groups=[] if as_root else None,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.stdout.strip() == "42", done.stderr
