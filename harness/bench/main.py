"""CodeRank benchmarks: local model speed, reranker throughput, one ``ask``, vote latency, the
hosted path with three agents concurrently versus one after another, and whether the embedded
model's code runs (``quality``).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python scripts/bench.py

It prints a table on stdout and progress on stderr. The hosted-path part runs in a child process
(``--hosted-only``) without ``HF_HUB_OFFLINE``, which ``huggingface_hub`` reads once at import and
which would block its calls even to 127.0.0.1; everything else runs offline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from harness.bench.active_pairs import bench_active_pairs
from harness.bench.core import bench_ask, bench_local_tokens, bench_reranker, bench_votes
from harness.bench.evaluation import bench_evaluation
from harness.bench.execution import bench_execution, bench_tester
from harness.bench.finetune import bench_finetune
from harness.bench.hosted import hosted_rows
from harness.bench.levers import bench_levers
from harness.bench.model import bench_asks, bench_builds, bench_process_overhead
from harness.bench.quality import DEFAULT_MODELS, bench_quality, quality_refused
from harness.bench.recipe import bench_recipe
from harness.bench.replicas import bench_replicas
from harness.bench.slack import bench_slack
from harness.bench.stores import bench_stores
from harness.bench.table import Row, format_table, log

ROOT = Path(__file__).resolve().parents[2]
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
SECTIONS = (
    "core", "model", "hosted", "slack", "stores", "evaluation", "finetune", "recipe", "replicas",
    "execution", "active", "quality", "levers",
)  # fmt: skip
# quality and levers ask the evaluation set (about an hour a model and lever): run when named.
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s not in ("quality", "levers"))


def run_hosted_child(args: argparse.Namespace, tmp: Path) -> list[Row]:
    """Run the hosted part in a child process whose environment has no offline switch."""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        "-m",
        "harness.bench.main",
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
        help="where the GGUF is assembled once (491 MB); default ~/.cache/coderank",
    )
    parser.add_argument("--generations", type=int, default=3, help="timed local generations")
    parser.add_argument("--pairs", type=int, default=256, help="reranker pairs to score")
    parser.add_argument("--batch", type=int, default=32, help="reranker pairs per score() call")
    parser.add_argument("--votes", type=int, default=200, help="votes to time")
    parser.add_argument("--hosted-delay", type=float, default=1.0, help="fake server wait (s)")
    parser.add_argument(
        "--hosted-tokens", type=int, default=128, help="LLM_MAX_NEW_TOKENS on the hosted path"
    )
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma-separated sections to run, of {','.join(SECTIONS)} (default all but "
        "quality and levers)",
    )
    parser.add_argument(
        "--native-llama",
        default=None,
        help="model section: a folder holding another llama_cpp package (e.g. an old "
        "-march=native build) to compare tokens/s with",
    )
    parser.add_argument(
        "--quality-models",
        default=",".join(DEFAULT_MODELS),
        help="quality section: comma-separated LOCAL_MODEL values or .gguf files, one block of "
        f"rows each (default {','.join(DEFAULT_MODELS)}); levers section: the last of them",
    )
    parser.add_argument(
        "--quality-limit",
        type=int,
        default=None,
        help="quality section: ask only the first N problems of the evaluation set (default all)",
    )
    parser.add_argument(
        "--quality-seed", type=int, default=0, help="quality section: seeds the graph's pair choice"
    )
    parser.add_argument(
        "--quality-cold",
        action="store_true",
        help="quality section: also time each model's first ask in a new process with an empty "
        "model cache (copies the GGUF, up to ~500 MB, into a temporary folder)",
    )
    parser.add_argument("--hosted-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark and print the table; return the exit code."""
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
    only = set(args.only.split(","))
    if only - set(SECTIONS):
        print(
            f"error: unknown section(s) {', '.join(sorted(only - set(SECTIONS)))}", file=sys.stderr
        )
        return 2
    quality_models = [m.strip() for m in args.quality_models.split(",") if m.strip()]
    if only & {"quality", "levers"}:
        why = quality_refused(quality_models, limit=args.quality_limit, cache_dir=args.cache_dir)
        if why is not None:
            print(f"error: {why}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="coderank-bench-") as name:
        tmp = Path(name)
        if "core" in only:
            log("core 1/4: local model tokens/s, one thread (as before issue 28) and every core")
            rows += bench_local_tokens(args.cache_dir, args.generations, LLM_THREADS="1")
            rows += bench_local_tokens(args.cache_dir, args.generations)
            log("core 2/4: reranker pairs/s")
            rows.append(bench_reranker(args.cache_dir, args.pairs, args.batch))
            log("core 3/4: one ask with the real models")
            rows.append(bench_ask(args.cache_dir, tmp))
            log(f"core 4/4: vote resume latency over {args.votes} votes")
            rows += bench_votes(tmp, args.votes)
        if "model" in only:
            log("model: portable build vs other builds; model process vs in-process")
            rows += bench_builds(args.cache_dir, native=args.native_llama)
            rows += bench_asks(args.cache_dir, native=args.native_llama)
            rows += bench_process_overhead(args.cache_dir)
        if "hosted" in only:
            log("hosted: three agents concurrently vs sequentially (child process, online mode)")
            rows += run_hosted_child(args, tmp)
        if "stores" in only:
            log("stores: vote-path writes and reads, and a 100,000-document copy")
            rows += bench_stores(tmp)
        if "evaluation" in only:
            log("evaluation: 1,000,000 synthetic feedback documents (child process)")
            rows += bench_evaluation()
        if "finetune" in only:
            log("finetune: 1,000 synthetic pairs, 1 epoch (child process)")
            rows += bench_finetune()
        if "recipe" in only:
            log("recipe: the fine-tune in use on 600 pairs of the evaluation set (child process)")
            rows += bench_recipe()
        if "slack" in only:
            log("slack: acknowledgement and update latency through the Bolt app")
            rows += bench_slack(tmp)
        if "execution" in only:
            log("execution: the bwrap sandbox")
            rows += bench_execution(tmp)
            rows += bench_tester(args.cache_dir, tmp)
        if "replicas" in only:
            log("replicas: PostgreSQL vs SQLite votes; two bot replicas under load; failover")
            rows += bench_replicas(tmp, args.votes)
        if "active" in only:
            log("active: PAIR_POLICY=active vs random on synthetic voters")
            rows += bench_active_pairs()
        if "quality" in only:
            log(f"quality: the evaluation set through the graph, per model: {args.quality_models}")
            rows += bench_quality(
                quality_models,
                cache_dir=args.cache_dir,
                tmp=tmp,
                limit=args.quality_limit,
                seed=args.quality_seed,
                cold=args.quality_cold,
            )
        if "levers" in only:
            model = quality_models[-1]
            log(f"levers: prompts and temperatures one at a time on {model}")
            rows += bench_levers(model, cache_dir=args.cache_dir, tmp=tmp, limit=args.quality_limit)
    log(f"done in {time.perf_counter() - total:.0f} s")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
