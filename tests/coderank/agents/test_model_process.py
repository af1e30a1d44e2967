"""The embedded model runs in a supervised child process: a crash in llama.cpp fails the
generation it interrupts with a clear reason, the process comes back, and a model that cannot
start is one line naming the cause and the fix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from coderank.agents.llm import build_chat_model
from coderank.agents.model_process import describe_exit, start_failure
from coderank.errors import ModelCrashedError
from harness.servers import wait_until_generating
from harness.settings import ROOT, make_env, make_settings

PROBLEM = "Write a long essay about the history of the Python programming language."


def test_exits_are_described_in_words() -> None:
    assert describe_exit(-signal.SIGKILL) == "was stopped by SIGKILL"
    assert describe_exit(-signal.SIGSEGV) == "crashed with SIGSEGV"
    assert describe_exit(1) == "exited with code 1"


def test_a_start_failure_names_the_cause_and_the_fix() -> None:
    bad_file = start_failure(1, "ValueError: Failed to load model from file: /m.gguf", "/m.gguf")
    assert "LOCAL_GGUF_PATH" in bad_file and "/m.gguf" in bad_file
    crashed = start_failure(-signal.SIGSEGV, "", "/m.gguf")
    assert "SIGSEGV" in crashed and "make install" in crashed
    killed = start_failure(-signal.SIGKILL, "", "/m.gguf")
    assert "out-of-memory" in killed


@pytest.mark.slow
def test_a_killed_model_process_fails_its_generation_and_is_started_again(
    tmp_path: Path, gguf_path: Path
) -> None:
    model = build_chat_model(make_settings(tmp_path, LLM_MAX_NEW_TOKENS="2000"))
    process = model.process
    process.ensure_ready()
    before = process.health()
    failures: list[BaseException] = []

    def generate() -> None:
        try:
            model.invoke(PROBLEM)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            failures.append(exc)

    worker = threading.Thread(target=generate)
    worker.start()
    wait_until_generating(process.socket_path)  # 2000 tokens take far longer: mid-generation
    assert before.pid is not None
    os.kill(before.pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], ModelCrashedError), failures
    assert "SIGKILL" in str(failures[0]) and "ask again" in str(failures[0])

    answer = build_chat_model(make_settings(tmp_path, LLM_MAX_NEW_TOKENS="16")).invoke(
        "Write a function f() that returns 1."
    )
    after = process.health()
    assert answer.content.strip()
    assert after.state == "ready" and after.restarts == before.restarts + 1
    assert after.pid != before.pid


@pytest.mark.slow
def test_a_truncated_gguf_is_one_line_and_exit_code_2_with_nothing_stored(
    tmp_path: Path, gguf_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    with open(gguf_path, "rb") as source:
        broken.write_bytes(source.read(8 * 1024 * 1024))
    env = {**os.environ, **make_env(tmp_path, LOCAL_GGUF_PATH=str(broken))}
    done = subprocess.run(
        [sys.executable, "-m", "coderank", "ask", "Write a function is_prime(n)", "--vote", "A"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "LOCAL_GGUF_PATH" in errors[0] and str(broken) in errors[0]
    assert "Traceback" not in done.stderr and "Segmentation" not in done.stderr
    stats = subprocess.run(
        [sys.executable, "-m", "coderank", "stats"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert all(line.endswith(" 0") for line in stats.stdout.splitlines()), stats.stdout
