"""The hosted path: three agents concurrently versus one after another."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coderank.agents.agents import Agent
    from coderank.models import Answer
from harness.bench.core import offline_settings
from harness.bench.table import Row, log
from harness.chat_server import ChatServer

HOSTED_PROBLEM = "Write a function that returns the n-th Fibonacci number"


@contextmanager
def fake_chat_server(delay_s: float) -> Iterator[tuple[str, ChatServer]]:
    """A latency-bound OpenAI-compatible server on 127.0.0.1 standing for a hosted endpoint."""
    server = ChatServer(delay_s=delay_s).start()
    try:
        yield server.url, server
    finally:
        server.stop()


def time_agents(url: str, max_new_tokens: int) -> dict[str, float]:
    """Seconds for the three hf-backend agents one after another and in a 3-thread pool."""
    from coderank.agents.agents import build_agents
    from coderank.agents.llm import build_chat_model
    from coderank.config import from_env

    settings = from_env(
        {"LLM_BACKEND": "hf", "HF_ENDPOINT_URL": url, "LLM_MAX_NEW_TOKENS": str(max_new_tokens)},
        env_file=None,
    )
    agents = list(build_agents(build_chat_model(settings), timeout_s=120).values())

    def run(agent: Agent, problem: str = HOSTED_PROBLEM) -> Answer:
        result = agent.answer(problem)
        if not result.ok:
            raise RuntimeError(f"agent {result.agent} failed against {url}: {result.error}")
        return result

    run(agents[0], "Say hello in Python.")  # warm-up: connection, imports
    started = time.perf_counter()
    for agent in agents:
        run(agent)
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(run, agents))
    concurrent = time.perf_counter() - started
    log(f"hosted {url}: sequential {sequential:.2f} s, concurrent {concurrent:.2f} s")
    return {"sequential": sequential, "concurrent": concurrent}


def hosted_rows(cache_dir: str, tmp: Path, delay_s: float, max_new_tokens: int) -> list[Row]:
    """Hosted-path rows against llama.cpp's server and a latency-bound fake. Needs network on."""
    from coderank.agents.llm import local_gguf_path
    from harness.servers import llama_server

    rows: list[Row] = []
    gguf = local_gguf_path(offline_settings(cache_dir))
    log("starting llama.cpp server (coderank.agents.model_server --port, 2 threads)")
    with llama_server(gguf, log_path=tmp / "llama.log") as url:
        t = time_agents(url, max_new_tokens)
    ratio = t["concurrent"] / t["sequential"]
    note = (
        f"same GGUF, {max_new_tokens} new tokens max; one server on 2 cores runs one request "
        "at a time"
    )
    rows += [
        Row("hosted llama.cpp: 3 agents sequential", f"{t['sequential']:.2f}", "s", note),
        Row("hosted llama.cpp: 3 agents concurrent", f"{t['concurrent']:.2f}", "s", "same"),
        Row("hosted llama.cpp: concurrent/sequential", f"{ratio:.2f}", "ratio", "~1 expected"),
    ]
    with fake_chat_server(delay_s) as (url, server):
        t = time_agents(url, max_new_tokens)
        paths = ", ".join(sorted(server.paths))
        peak = server.peak_in_flight
    ratio = t["concurrent"] / t["sequential"]
    verdict = "MET" if ratio < 0.5 else "NOT MET"
    rows += [
        Row(
            "hosted fake (1 s/request): sequential",
            f"{t['sequential']:.2f}",
            "s",
            f"stdlib OpenAI-compatible server, {delay_s:g} s wait/request; POST {paths}",
        ),
        Row(
            "hosted fake (1 s/request): concurrent",
            f"{t['concurrent']:.2f}",
            "s",
            f"ThreadPoolExecutor(3), like the graph fan-out; peak {peak} in flight",
        ),
        Row(
            "hosted fake: concurrent/sequential",
            f"{ratio:.2f}",
            "ratio",
            f"target < 0.50: {verdict}",
        ),
    ]
    return rows
