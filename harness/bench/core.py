"""Benchmarks of the core pipeline: local model, reranker, one ``ask``, vote latency."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from harness.bench.table import Row, log, percentile

ASK_PROBLEM = "Write a function is_prime(n)"
TOKEN_PROBLEMS = (
    "Write a function that reverses the words of a sentence.",
    "Write a function that returns the n-th Fibonacci number.",
    "Write a function that checks whether a string is a palindrome.",
    "Write a function that merges two sorted lists into one sorted list.",
)
# Answer bodies for the reranker: a few hundred characters of code, varied per pair.
_CODE_TEMPLATES = (
    '```python\ndef {name}(items):\n    """Return the {what} of items."""\n    result = []\n'
    "    for i, item in enumerate(items):\n        if item is None:\n            continue\n"
    "        result.append(item * {k})\n    return sorted(result)[:{k}]\n```\n"
    "This loops once over the input, so it is O(n log n) because of the sort.",
    "```python\nfrom functools import lru_cache\n\n\n@lru_cache(maxsize=None)\n"
    "def {name}(n: int) -> int:\n    # {what}: memoised recursion\n    if n < {k}:\n"
    "        return n\n    return {name}(n - 1) + {name}(n - 2)\n```\n"
    "Memoisation makes it O(n) time and O(n) space.",
    "```python\nimport collections\n\n\ndef {name}(text):\n    counts = collections.Counter"
    "(text.split())\n    # the {what}\n    best = counts.most_common({k})\n"
    "    return [word for word, _ in best]\n```\nCounter does the counting in one pass.",
)


def offline_settings(cache_dir: str, **extra: str) -> Any:
    """Settings for the local backend, built only from the values given (no ``.env``)."""
    from coderank.config import from_env

    return from_env({"CODERANK_CACHE_DIR": cache_dir, **extra}, env_file=None)


# --- 1. local model tokens/s ---------------------------------------------------------------------


def bench_local_tokens(cache_dir: str, generations: int, **model: str) -> list[Row]:
    """Completion tokens per wall second of the embedded model: one sequence at a time, then
    four at once (the three agents and the Tester), decoded together by the model process.

    ``model``: settings such as ``LOCAL_MODEL`` (default: the packaged default)."""
    from concurrent.futures import ThreadPoolExecutor

    from langchain_core.messages import HumanMessage, SystemMessage

    from coderank.agents.llm import build_chat_model
    from coderank.agents.model_process import INFO_PATH, close_model_processes
    from coderank.agents.prompts import SYSTEM_PROMPTS

    close_model_processes()  # another section's model process would share the cores
    settings = offline_settings(cache_dir, LLM_MAX_NEW_TOKENS="128", **model)
    started = time.perf_counter()
    chat = build_chat_model(settings)
    chat.process.ensure_ready()
    load_s = time.perf_counter() - started
    with chat.process.client(timeout=10) as client:
        threads = client.get(INFO_PATH).json()["threads"]
    name = f"{chat.model_path.rsplit('/', 1)[-1]}, {threads} thread{'s' if threads > 1 else ''}"
    log(f"{name} ready in {load_s:.1f} s (assembles the GGUF on first use)")
    system = SystemMessage(SYSTEM_PROMPTS["explainer"])

    def one(problem: str) -> int:
        reply = chat.invoke([system, HumanMessage(problem)])
        return int(reply.response_metadata["usage"]["completion_tokens"])

    one(TOKEN_PROBLEMS[-1])  # warm-up, not timed
    rates = {}
    for width in (1, 4):  # one sequence, then four at once
        tokens, seconds = 0, 0.0
        with ThreadPoolExecutor(width) as pool:
            for i in range(generations):
                problems = [TOKEN_PROBLEMS[(i + k) % len(TOKEN_PROBLEMS)] for k in range(width)]
                started = time.perf_counter()
                done = sum(pool.map(one, problems))
                elapsed = time.perf_counter() - started
                tokens, seconds = tokens + done, seconds + elapsed
                log(f"{width} at once, run {i + 1}/{generations}: {done} tok in {elapsed:.2f} s")
        rates[width] = (tokens / seconds, tokens, seconds)
    close_model_processes()
    note = (
        "the model process, the Explainer's prompt, 128 new tokens max, prompt reading included; "
    )
    return [
        Row(
            f"local tokens/s, 1 sequence ({name})",
            f"{rates[1][0]:.1f}",
            "tok/s",
            note + f"{generations} runs, {rates[1][1]} tok in {rates[1][2]:.1f} s; "
            f"start {load_s:.1f} s",
        ),
        Row(
            f"local tokens/s, 4 sequences at once ({name})",
            f"{rates[4][0]:.1f}",
            "tok/s",
            note + f"{generations} runs of 4, {rates[4][1]} tok in {rates[4][2]:.1f} s; "
            f"{rates[4][0] / rates[1][0]:.2f}x one sequence (target >= 2x)",
        ),
    ]


# --- 2. reranker pairs/s -------------------------------------------------------------------------


def bench_reranker(cache_dir: str, pairs: int, batch: int) -> Row:
    """(problem, answer) pairs scored per second by the CrossEncoder reranker on CPU."""
    from coderank.reranker.cross_encoder import load_reranker

    settings = offline_settings(cache_dir)
    started = time.perf_counter()
    reranker = load_reranker(settings)
    load_s = time.perf_counter() - started
    log(f"reranker loaded in {load_s:.1f} s")
    answers = [
        _CODE_TEMPLATES[i % len(_CODE_TEMPLATES)].format(
            name=f"solve_{i}", what=f"variant {i}", k=i % 7 + 2
        )
        for i in range(pairs)
    ]
    problem = "Write a function that returns the most common words of a text, in order."
    reranker.score(problem, answers[:batch])  # warm-up, not timed
    started = time.perf_counter()
    for start in range(0, pairs, batch):
        scores = reranker.score(problem, answers[start : start + batch])
        assert len(scores) == len(answers[start : start + batch])
    elapsed = time.perf_counter() - started
    mean_chars = sum(len(a) for a in answers) // len(answers)
    return Row(
        "reranker pairs/s",
        f"{pairs / elapsed:.1f}",
        "pairs/s",
        f"{pairs} pairs in batches of {batch}, answers ~{mean_chars} chars, {elapsed:.1f} s; "
        f"load {load_s:.1f} s",
    )


# --- 3. one ask ----------------------------------------------------------------------------------


def bench_ask(cache_dir: str, tmp: Path, **model: str) -> Row:
    """Wall time of one warm ``ask``: three real local agents and the Tester (decoded together),
    the real reranker, the sandbox, the pair choice."""
    from coderank.services import build_services

    settings = offline_settings(
        cache_dir, DATA_DIR=str(tmp / "ask"), LLM_MAX_NEW_TOKENS="256", **model
    )
    services = build_services(settings)
    services.comparisons.start(TOKEN_PROBLEMS[0], requester="bench", source="bench")  # warm-up
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def progress(node: str, _value: dict[str, Any]) -> None:
        stages[node] = time.perf_counter() - started
        log(f"ask: {node} done at {stages[node]:.1f} s")

    try:
        comparison = services.comparisons.start(
            ASK_PROBLEM, requester="bench", source="bench", on_progress=progress
        )
        elapsed = time.perf_counter() - started
    finally:
        services.close()
    ok = sum(1 for a in comparison.answers if a.ok)
    chars = sum(len(a.text) for a in comparison.answers)
    agents_s = max(v for k, v in stages.items() if k not in ("begin", "score", "choose_pair"))
    return Row(
        f"warm ask wall time ({comparison.llm_model})",
        f"{elapsed:.1f}",
        "s",
        f"3 agents + Tester + rerank + sandbox, LLM_MAX_NEW_TOKENS=256, models warm; {ok}/3 ok, "
        f"{chars:,} chars in all; agents {agents_s:.1f} s (decoded together), the rest "
        f"{elapsed - agents_s:.2f} s (target <= 20 s)",
    )


# --- 4. vote resume latency ----------------------------------------------------------------------


def bench_votes(tmp: Path, votes: int) -> list[Row]:
    """Latency of ``comparisons.vote``: each resumes the SQLite checkpoint and stores feedback."""
    from coderank.config import from_env
    from coderank.services import build_services
    from harness.fakes import LengthReranker, fake_agents

    settings = from_env({"DATA_DIR": str(tmp / "votes"), "VOTE_QUORUM": "0"}, env_file=None)
    services = build_services(settings, agents=fake_agents(), reranker=LengthReranker())
    latencies: list[float] = []
    try:
        cid = services.comparisons.start(
            ASK_PROBLEM, requester="bench", source="bench"
        ).comparison_id
        for i in range(votes):
            started = time.perf_counter()
            result = services.comparisons.vote(cid, user=f"u{i}", choice="AB"[i % 2])
            latencies.append(time.perf_counter() - started)
            assert result.changed and not result.closed
        voters = services.comparisons.get(cid).votes
    finally:
        services.close()
    assert len(voters) == votes
    ms = [s * 1000 for s in latencies]
    tenth = max(1, votes // 10)
    first, last = statistics.median(ms[:tenth]), statistics.median(ms[-tenth:])
    log(f"{votes} votes: p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms")
    note = (
        f"{votes} distinct users, VOTE_QUORUM=0; median of first {tenth} {first:.1f} ms, "
        f"last {tenth} {last:.1f} ms"
    )
    return [
        Row("vote resume latency p50", f"{percentile(ms, 50):.1f}", "ms", note),
        Row("vote resume latency p99", f"{percentile(ms, 99):.1f}", "ms", "same run"),
    ]
