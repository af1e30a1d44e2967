"""Hostile answers in the real bwrap sandbox: each is contained, no secret of the process running
it can be read, and the result says why it stopped."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from coderank.execution import Executor
from coderank.execution.checks import Check, check_answer, examples
from coderank.execution.sandbox import Limits, Sandbox, probe

SECRET = "xoxb-sandbox-secret-token"
SANDBOX = Sandbox(limits=Limits(cpu_s=2, wall_s=4.0))


@pytest.fixture(autouse=True)
def secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRET)  # as in the bot's own environment


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on the host's loopback, as the Slack test server would be."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()

    def accept() -> None:
        try:
            server.accept()
            accepted.set()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    assert not accepted.is_set(), "the sandbox reached the host's loopback"


def test_the_sandbox_works_here() -> None:
    assert probe(SANDBOX) is None


def test_no_secret_can_be_read() -> None:
    result = SANDBOX.run(
        "import os\n"
        "print(dict(os.environ))\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try: print(open(f'/proc/{pid}/environ').read())\n"
        "        except OSError as e: print(e)\n"
    )
    assert result.ok, result
    assert SECRET not in result.stdout + result.stderr
    assert "SLACK" not in result.stdout


def test_no_network_not_even_loopback(listener: int) -> None:
    result = SANDBOX.run(
        "import socket\n"
        f"s = socket.socket(); s.settimeout(1); print(s.connect_ex(('127.0.0.1', {listener})))\n"
        "try:\n    socket.create_connection(('93.184.216.34', 80), timeout=1)\n"
        "except OSError as e: print(type(e).__name__)\n"
    )
    first, second = result.stdout.split()
    assert first != "0" and second.endswith("Error"), result


@pytest.mark.parametrize(
    ("program", "why"),
    [
        ("while True: pass", "cpu limit"),
        ("import time\ntime.sleep(60)", "timeout"),
        ("import sys\nwhile True: sys.stdout.write('x' * 65536)", "output"),
        ("import os\nwhile True:\n    try: os.fork()\n    except OSError: pass", "timeout"),
    ],
)
def test_runaway_programs_are_stopped_and_say_why(program: str, why: str) -> None:
    started = time.monotonic()
    result = SANDBOX.run(program)
    assert result.stopped == why, result
    assert not result.ok
    assert time.monotonic() - started < 8
    assert len(result.stdout) <= SANDBOX.limits.output_bytes


def test_memory_writes_and_processes_are_limited() -> None:
    result = SANDBOX.run(
        "import os, subprocess\n"
        "try: bytearray(10 * 1024**3)\nexcept MemoryError: print('memory')\n"
        "try: open('/usr/evil', 'w')\nexcept OSError: print('read-only')\n"
        "open('/tmp/mine', 'w').write('x')\n"
        "print(subprocess.run(['id', '-u'], capture_output=True, text=True).stdout.strip())\n"
        "os.kill(os.getppid(), 9)\n"
        "print('still here')\n"
    )
    lines = result.stdout.split()
    assert lines[:2] == ["memory", "read-only"], result
    assert lines[2] != "0" or os.geteuid() != 0  # never root on the host's behalf
    assert not os.path.exists("/tmp/mine") or os.path.getsize("/tmp/mine") != 1


def test_a_fork_bomb_leaves_no_process_behind() -> None:
    SANDBOX.run("import os\nwhile True:\n    try: os.fork()\n    except OSError: pass")
    leftover = [p for p in os.listdir("/proc") if p.isdigit() and _is_sandboxed(p)]
    assert leftover == []


def test_many_runs_in_a_row_leave_no_zombie_to_exhaust_the_process_limit() -> None:
    # bwrap leaves its namespace's PID 1 for the machine's init to reap; here (and in a container
    # whose PID 1 is the bot) nobody did, and the 33rd run failed with "Can't fork".
    before = _bwrap_zombies()
    for run in range(2 * Limits().processes):
        result = SANDBOX.run("pass")
        assert result.ok, (run, result.stderr)
    assert _bwrap_zombies() <= before


def _bwrap_zombies() -> int:
    count = 0
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().split()
        except OSError:
            continue
        count += fields[1] == "(bwrap)" and fields[2] == "Z"
    return count


def _is_sandboxed(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"python3\x00-I\x00-X\x00utf8\x00-" in f.read()
    except OSError:
        return False


def test_an_answer_is_checked_against_the_problems_examples() -> None:
    problem = "Write is_prime(n).\n>>> is_prime(7)\nTrue\n>>> is_prime(1)\nFalse\n"
    checks = examples(problem)
    assert checks == [
        Check("assert repr(is_prime(7)) == 'True'", "example"),
        Check("assert repr(is_prime(1)) == 'False'", "example"),
    ]
    good = "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, n))\n"
    assert check_answer(SANDBOX, good, checks).summary == "2/2 checks passed"
    wrong = "def is_prime(n):\n    return all(n % d for d in range(2, n))\n"
    assert check_answer(SANDBOX, wrong, checks).summary == "1/2 checks passed"
    missing = "def is_prime(n):\n    return is_prime_prime(n)\n"
    result = check_answer(SANDBOX, missing, checks)
    assert result.error == "NameError: name 'is_prime_prime' is not defined"
    assert check_answer(SANDBOX, "def is_prime(n)\n", checks).summary.startswith(
        "does not parse: SyntaxError"
    )
    endless = "def is_prime(n):\n    while True: pass\n"
    late = ["TimeoutError: took more than 2 s"] * 2
    assert check_answer(SANDBOX, endless, checks).failures == late


def test_without_a_working_sandbox_nothing_runs_and_it_says_why() -> None:
    executor = Executor(Sandbox(bwrap="/nonexistent/bwrap"))
    assert executor.check("Write f", {"a": "print(1)"}) is None
    assert executor.status == "off: /nonexistent/bwrap is not installed (Debian package bubblewrap)"
    assert Executor(enabled=False).status == "off: EXECUTION=off"
