"""Benchmarks of the embedded model's runtime: this portable llama.cpp build against other builds
(its AVX2 variant alone, and an old ``-march=native`` build when one is given), and generation
through the supervised model process against generation in-process.

Every run is greedy (temperature 0) on the same prompts, so each produces the same tokens and only
the time differs. ``python -m harness.bench.model --gguf X`` is the in-process run, in a child
process of its own so that another build of ``llama_cpp`` can be put first on its path.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.bench.child import child_result
from harness.bench.core import TOKEN_PROBLEMS, offline_settings
from harness.bench.table import Row, log

MAX_TOKENS = 128
ROUNDS = 5


def conversations() -> list[list[Any]]:
    """What the Concise Fixer sends for each benchmark problem: system prompt, problem."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from coderank.agents.prompts import SYSTEM_PROMPTS

    system = SystemMessage(SYSTEM_PROMPTS["concise_fixer"])
    return [[system, HumanMessage(p)] for p in TOKEN_PROBLEMS]


def prompts() -> list[str]:
    """The same, as the completion prompts the embedded model is given."""
    from coderank.agents.llm import render_completion_prompt

    return [render_completion_prompt(c) for c in conversations()]


def in_process(gguf: str, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
    """Greedy generations with ``llama_cpp.Llama`` in this process (whichever build is imported)."""
    import llama_cpp

    from coderank.agents.llm import STOP
    from coderank.agents.model_server import load_cpu_backend

    variants = load_cpu_backend()
    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=gguf, n_ctx=2048, seed=0, verbose=False)
    load_s = time.perf_counter() - started
    texts = prompts()
    llm.create_completion("def add(a, b):", max_tokens=8, temperature=0.0)  # warm-up
    tokens, started = 0, time.perf_counter()
    for text in texts:
        out = llm.create_completion(
            text, max_tokens=max_tokens, temperature=0.0, stop=STOP, repeat_penalty=1.0
        )
        tokens += int(out["usage"]["completion_tokens"])
    return {
        "tokens": tokens,
        "seconds": time.perf_counter() - started,
        "load_s": load_s,
        "variants": variants or "built in",
        "features": llama_cpp.llama_print_system_info().decode().strip(),
    }


def through_process(cache_dir: str, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
    """The same greedy generations through ``LocalModelChat`` and a new supervised model process
    (its start and self-check timed too)."""
    from coderank.agents.llm import LocalModelChat, local_gguf_path
    from coderank.agents.model_process import ModelProcess

    process = ModelProcess(local_gguf_path(offline_settings(cache_dir)))
    try:
        started = time.perf_counter()
        process.ensure_ready()
        start_s = time.perf_counter() - started
        model = LocalModelChat(
            process=process,
            model_path=str(process.model_path),
            max_tokens=max_tokens,
            temperature=0.0,
        )
        model.invoke("def add(a, b):")  # warm-up, not timed
        tokens, started = 0, time.perf_counter()
        for conversation in conversations():
            reply = model.invoke(conversation)
            tokens += int(reply.response_metadata["usage"]["completion_tokens"])
        seconds = time.perf_counter() - started
    finally:
        process.close()
    return {"tokens": tokens, "seconds": seconds, "start_s": start_s}


def _variant_only(variant: str, into: Path) -> Path:
    """A copy of the installed ``llama_cpp`` package holding only one CPU variant."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin is not None
    target = into / "llama_cpp"
    shutil.copytree(Path(spec.origin).parent, target)
    for lib in (target / "lib").glob("libggml-cpu-*.so"):
        if lib.name != f"libggml-cpu-{variant}.so":
            lib.unlink()
    return into


def interleaved(
    builds: dict[str, str | None], rounds: int, *args: str
) -> dict[str, list[dict[str, Any]]]:
    """``python -m harness.bench.model *args`` with each build first on the path, ``rounds``
    times, the builds taking turns (so a slower moment of the machine falls on all of them)."""
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in builds}
    for round_ in range(1, rounds + 1):
        for label, path in builds.items():
            log(f"model: {' '.join(args[:1])} {label}, round {round_}/{rounds}")
            runs[label].append(child_result("harness.bench.model", *args, python_path=path))
    return runs


def bench_builds(cache_dir: str, *, native: str | None, rounds: int = ROUNDS) -> list[Row]:
    """Tokens/s of this build (best variant), of its AVX2 variant alone, and of ``native``:
    ``rounds`` runs of each, interleaved, and the median of each build's runs."""
    from coderank.agents.llm import local_gguf_path

    gguf = str(local_gguf_path(offline_settings(cache_dir)))
    with tempfile.TemporaryDirectory(prefix="coderank-bench-llama-") as tmp:
        builds: dict[str, str | None] = {
            "portable build, variant chosen at run time": None,
            "portable build, AVX2 (haswell) variant only": str(_variant_only("haswell", Path(tmp))),
        }
        if native:
            builds["old build with -march=native"] = native
        runs = interleaved(builds, rounds, "--gguf", gguf)
    rows = []
    for label, done in runs.items():
        speeds = sorted(r["tokens"] / r["seconds"] for r in done)
        rows.append(
            Row(
                f"tokens/s, {label}",
                f"{statistics.median(speeds):.1f}",
                "tok/s",
                f"median of {rounds} interleaved runs ({speeds[0]:.1f}-{speeds[-1]:.1f}); "
                f"in-process, greedy, {len(TOKEN_PROBLEMS)} x {MAX_TOKENS} tokens max; "
                f"{_features(done[0]['features'])}",
            )
        )
    return rows


def _features(info: str) -> str:
    """The SIMD features llama.cpp reports as on, e.g. ``AVX2 AVX512 AVX512_VNNI``."""
    on = [part.split("=")[0].strip() for part in info.split("|") if part.strip().endswith("= 1")]
    return " ".join(f for f in on if f.startswith(("AVX", "AMX", "F16C", "FMA")))


def bench_process_overhead(cache_dir: str, *, rounds: int = ROUNDS) -> list[Row]:
    """The cost of the supervised model process against in-process generation, same tokens:
    ``rounds`` of each, interleaved, compared by their medians."""
    from coderank.agents.llm import local_gguf_path

    gguf = str(local_gguf_path(offline_settings(cache_dir)))
    inproc, child = [], []
    for round_ in range(1, rounds + 1):
        log(f"model: in-process generation (a child process of its own), round {round_}/{rounds}")
        inproc.append(child_result("harness.bench.model", "--gguf", gguf))
        log(f"model: the same generations through a model process, round {round_}/{rounds}")
        child.append(through_process(cache_dir))
    inproc_s = statistics.median(r["seconds"] for r in inproc)
    child_s = statistics.median(r["seconds"] for r in child)
    note = (
        f"median of {rounds} interleaved runs of {len(TOKEN_PROBLEMS)} greedy generations: "
        f"{child_s:.2f} s via the process ({child[0]['tokens']} tok) vs {inproc_s:.2f} s "
        f"in-process ({inproc[0]['tokens']} tok)"
    )
    return [
        Row(
            "model process: added time per generation",
            f"{(child_s / inproc_s - 1) * 100:+.1f}",
            "%",
            f"{note}; target < 5% of an ask",
        ),
        Row(
            "model process: start + self-check",
            f"{statistics.median(r['start_s'] for r in child):.1f}",
            "s",
            "once per bot or CLI process, and after a crash; in-process model load "
            f"{statistics.median(r['load_s'] for r in inproc):.1f} s",
        ),
    ]


def bench_asks(cache_dir: str, *, native: str | None, rounds: int = 3) -> list[Row]:
    """``ask`` (three agents through the model process, then the reranker) with this build and,
    when given, with ``native``: ``rounds`` of each, interleaved, each in a fresh process (the
    model process inherits the path). Answers are sampled, so their lengths differ run to run."""
    builds: dict[str, str | None] = {"portable build": None}
    if native:
        builds["old build with -march=native"] = native
    runs = interleaved(builds, rounds, "--ask", cache_dir)
    rows = []
    for label, done in runs.items():
        ordered = sorted(done, key=lambda r: float(r["value"]))
        middle = ordered[len(ordered) // 2]
        rows.append(
            Row(
                f"ask wall time, {label}",
                middle["value"],
                middle["unit"],
                f"median of {rounds} ({ordered[0]['value']}-{ordered[-1]['value']} s); "
                + middle["note"],
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    run = parser.add_mutually_exclusive_group(required=True)
    run.add_argument("--gguf", help="time in-process generations of this GGUF")
    run.add_argument("--ask", metavar="CACHE_DIR", help="time one ask")
    args = parser.parse_args(argv)
    if args.ask:
        from harness.bench.core import bench_ask

        with tempfile.TemporaryDirectory(prefix="coderank-bench-ask-") as tmp:
            bench_ask(args.ask, Path(tmp) / "warm-up")  # loads both models, not timed
            row = bench_ask(args.ask, Path(tmp))
        print(json.dumps({"value": row.value, "unit": row.unit, "note": row.note}))
    else:
        print(json.dumps(in_process(args.gguf)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
