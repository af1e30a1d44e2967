"""CodeRank benchmarks: local model speed, reranker throughput, one ``ask``, vote latency, and the
hosted path with three agents concurrently versus one after another.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python scripts/bench.py

It prints a table on stdout and progress on stderr. The hosted-path part runs in a child process
(``--hosted-only``) without ``HF_HUB_OFFLINE``, which ``huggingface_hub`` reads once at import and
which would block its calls even to 127.0.0.1; everything else runs offline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coderank.agents.agents import Agent
    from coderank.models import Answer

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
ASK_PROBLEM = "Write a function is_prime(n)"
HOSTED_PROBLEM = "Write a function that returns the n-th Fibonacci number"
TOKEN_PROBLEMS = (
    "Write a function that reverses the words of a sentence.",
    "Write a function that returns the n-th Fibonacci number.",
    "Write a function that checks whether a string is a palindrome.",
    "Write a function that merges two sorted lists into one sorted list.",
)
FAKE_REPLY = (
    "```python\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
    "    return a\n```\nIterative: O(n) time, O(1) space."
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


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    metric: str
    value: str
    unit: str
    note: str


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def format_table(rows: Sequence[Row]) -> str:
    """Rows as plain text with aligned columns."""
    header = Row("metric", "value", "unit", "note / target")
    cells = [astuple_row(header), *(astuple_row(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]

    def line(c: tuple[str, str, str, str]) -> str:
        return " | ".join(
            [c[0].ljust(widths[0]), c[1].rjust(widths[1]), c[2].ljust(widths[2]), c[3]]
        ).rstrip()

    rule = "-+-".join("-" * w for w in [*widths, max(len(c[3]) for c in cells)])
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


def astuple_row(row: Row) -> tuple[str, str, str, str]:
    """The row's four cells."""
    return row.metric, row.value, row.unit, row.note


def offline_settings(cache_dir: str, **extra: str) -> Any:
    """Settings for the local backend, built only from the values given (no ``.env``)."""
    from coderank.config import from_env

    return from_env({"CODERANK_CACHE_DIR": cache_dir, **extra}, env_file=None)


# --- 1. local model tokens/s ---------------------------------------------------------------------


def bench_local_tokens(cache_dir: str, generations: int) -> Row:
    """Completion tokens per wall second of the embedded llama.cpp model (128 new tokens max)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from coderank.agents.llm import build_chat_model
    from coderank.agents.prompts import SYSTEM_PROMPTS

    settings = offline_settings(cache_dir, LLM_MAX_NEW_TOKENS="128")
    started = time.perf_counter()
    model = build_chat_model(settings)
    load_s = time.perf_counter() - started
    log(f"local model ready in {load_s:.1f} s (assembles the GGUF on first use)")
    system = SystemMessage(SYSTEM_PROMPTS["concise_fixer"])
    model.invoke([system, HumanMessage(TOKEN_PROBLEMS[-1])])  # warm-up, not timed
    tokens, seconds = 0, 0.0
    for i in range(generations):
        problem = TOKEN_PROBLEMS[i % (len(TOKEN_PROBLEMS) - 1)]
        started = time.perf_counter()
        reply = model.invoke([system, HumanMessage(problem)])
        elapsed = time.perf_counter() - started
        done = int(reply.response_metadata["usage"]["completion_tokens"])
        tokens, seconds = tokens + done, seconds + elapsed
        log(f"generation {i + 1}/{generations}: {done} tokens in {elapsed:.2f} s")
    return Row(
        "local model tokens/s",
        f"{tokens / seconds:.1f}",
        "tok/s",
        f"in-process gemma-3-270m Q4_K_M, 128 new tokens max; {generations} runs, {tokens} tok "
        f"in {seconds:.1f} s incl. prompt eval; load {load_s:.1f} s",
    )


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


def bench_ask(cache_dir: str, tmp: Path) -> Row:
    """Wall time of one ``ask``: three real local agents, the real reranker, the pair choice."""
    from coderank.services import build_services

    settings = offline_settings(cache_dir, DATA_DIR=str(tmp / "ask"), LLM_MAX_NEW_TOKENS="256")
    services = build_services(settings)
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def progress(node: str, _value: dict[str, Any]) -> None:
        stages[node] = time.perf_counter() - started
        log(f"ask: {node} done at {stages[node]:.1f} s")

    try:
        state = services.comparisons.start(
            ASK_PROBLEM, requester="bench", source="bench", on_progress=progress
        )
        elapsed = time.perf_counter() - started
    finally:
        services.close()
    ok = sum(1 for a in state.get("answers", []) if a["error"] is None)
    agents_s = max(v for k, v in stages.items() if k not in ("score", "choose_pair"))
    return Row(
        "ask wall time (3 local agents + rerank)",
        f"{elapsed:.1f}",
        "s",
        f"LLM_MAX_NEW_TOKENS=256, models warm; {ok}/3 ok; agents {agents_s:.1f} s "
        f"(one at a time), score + pair {elapsed - agents_s:.2f} s",
    )


# --- 4. vote resume latency ----------------------------------------------------------------------


def bench_votes(tmp: Path, votes: int) -> list[Row]:
    """Latency of ``comparisons.vote``: each resumes the SQLite checkpoint and stores feedback."""
    from coderank.config import from_env
    from coderank.services import build_services
    from tests.fakes import LengthReranker, fake_agents

    settings = from_env({"DATA_DIR": str(tmp / "votes"), "VOTE_QUORUM": "0"}, env_file=None)
    services = build_services(settings, agents=fake_agents(), reranker=LengthReranker())
    latencies: list[float] = []
    try:
        cid = services.comparisons.start(ASK_PROBLEM, requester="bench", source="bench")[
            "comparison_id"
        ]
        for i in range(votes):
            started = time.perf_counter()
            result = services.comparisons.vote(cid, user=f"u{i}", choice="AB"[i % 2])
            latencies.append(time.perf_counter() - started)
            assert result.changed and not result.closed
        voters = services.comparisons.state(cid)["votes"]
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


# --- 5. hosted path: concurrent vs sequential ----------------------------------------------------


class _FakeChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _FakeChatHandler)
        self.delay_s = delay_s
        self.paths: set[str] = set()
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.counter_lock = threading.Lock()


class _FakeChatHandler(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions`` after a fixed wait, with a fixed OpenAI chat.completion."""

    server: _FakeChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        srv = self.server
        with srv.counter_lock:
            srv.paths.add(self.path)
            srv.requests += 1
            srv.in_flight += 1
            srv.peak_in_flight = max(srv.peak_in_flight, srv.in_flight)
        try:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": f"no route {self.path}"})
                return
            time.sleep(srv.delay_s)
            self._send(
                200,
                {
                    "id": f"chatcmpl-bench-{srv.requests}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": str(request.get("model") or "bench-fake"),
                    "system_fingerprint": "bench",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": FAKE_REPLY},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 48, "total_tokens": 88},
                },
            )
        finally:
            with srv.counter_lock:
                srv.in_flight -= 1


@contextmanager
def fake_chat_server(delay_s: float) -> Iterator[tuple[str, _FakeChatServer]]:
    """A latency-bound OpenAI-compatible server on 127.0.0.1 standing for a hosted endpoint."""
    server = _FakeChatServer(delay_s)
    thread = threading.Thread(target=server.serve_forever, name="fake-chat", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


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
    from tests.servers import llama_server

    rows: list[Row] = []
    gguf = local_gguf_path(offline_settings(cache_dir))
    log("starting llama.cpp server (llama_cpp.server, 2 threads)")
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


def run_hosted_child(args: argparse.Namespace, tmp: Path) -> list[Row]:
    """Run the hosted part in a child process whose environment has no offline switch."""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--hosted-only",
        "--cache-dir",
        args.cache_dir,
        "--hosted-delay",
        str(args.hosted_delay),
        "--hosted-tokens",
        str(args.hosted_tokens),
        "--tmp",
        str(tmp),
    ]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return [Row(**r) for r in json.loads(done.stdout)]


# --- entry point ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--cache-dir",
        default=str(Path.home() / ".cache" / "coderank"),
        help="where the GGUF is assembled once (~250 MB); default ~/.cache/coderank",
    )
    parser.add_argument("--generations", type=int, default=3, help="timed local generations")
    parser.add_argument("--pairs", type=int, default=256, help="reranker pairs to score")
    parser.add_argument("--batch", type=int, default=32, help="reranker pairs per score() call")
    parser.add_argument("--votes", type=int, default=200, help="votes to time")
    parser.add_argument("--hosted-delay", type=float, default=1.0, help="fake server wait (s)")
    parser.add_argument(
        "--hosted-tokens", type=int, default=128, help="LLM_MAX_NEW_TOKENS on the hosted path"
    )
    parser.add_argument("--skip-hosted", action="store_true", help="leave out the hosted rows")
    parser.add_argument("--hosted-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark and print the table; return the exit code."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    args = parse_args(argv)
    if args.hosted_only:
        for name in OFFLINE_VARS:
            os.environ.pop(name, None)
        hosted = hosted_rows(args.cache_dir, Path(args.tmp), args.hosted_delay, args.hosted_tokens)
        print(json.dumps([asdict(r) for r in hosted]))
        return 0

    os.environ["HF_HUB_OFFLINE"] = "1"
    total = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="coderank-bench-") as name:
        tmp = Path(name)
        log("1/5 local model tokens/s")
        rows.append(bench_local_tokens(args.cache_dir, args.generations))
        log("2/5 reranker pairs/s")
        rows.append(bench_reranker(args.cache_dir, args.pairs, args.batch))
        log("3/5 one ask with the real models")
        rows.append(bench_ask(args.cache_dir, tmp))
        log(f"4/5 vote resume latency over {args.votes} votes")
        rows += bench_votes(tmp, args.votes)
        if not args.skip_hosted:
            log("5/5 hosted path (child process without HF_HUB_OFFLINE)")
            rows += run_hosted_child(args, tmp)
    log(f"done in {time.perf_counter() - total:.0f} s")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
