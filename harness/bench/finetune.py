"""Fine-tuning the reranker on 1,000 synthetic preference pairs (1 epoch): speed and peak memory.

Runs in a child process (``python -m harness.bench.finetune N``) so its peak RSS is its own."""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from harness.bench.child import child_result
from harness.bench.table import Row

PER_PROBLEM = 5


def child(n_pairs: int) -> None:
    from coderank.config import from_env
    from coderank.finetune.train import finetune
    from coderank.reranker.cross_encoder import reranker_source
    from harness.finetune_data import synthetic_pairs

    pairs = synthetic_pairs(max(n_pairs // PER_PROBLEM, 2), seed=0, per_problem=PER_PROBLEM)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coderank-bench-ft-") as tmp:
        result = finetune(
            pairs,
            base=reranker_source(from_env({}, env_file=None)),
            out_dir=Path(tmp) / "model",
            epochs=1,
            progress_bar=False,
        )
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "train_seconds": result.train_seconds,
                "examples_per_second": result.examples_per_second,
                "peak_mb": peak_mb,
                "pairs": result.to_json()["pairs"],
                "before": result.before.accuracy.value,
                "after": result.after.accuracy.value,
            }
        )
    )


def bench_finetune(n_pairs: int = 1000) -> list[Row]:
    r = child_result("harness.bench.finetune", str(n_pairs))
    p = r["pairs"]
    note = (
        f"{p['total']:,} synthetic pairs on {p['train_problems'] + p['held_out_problems']} "
        f"problems, 1 epoch, batch 16, 2 CPU cores"
    )
    return [
        Row(
            "fine-tune: training speed",
            f"{r['examples_per_second']:.1f}",
            "pairs/s",
            f"{note}; {p['train']} training pairs in {r['train_seconds']:.0f} s",
        ),
        Row(
            "fine-tune: wall time",
            f"{r['seconds']:.0f}",
            "s",
            "load, score held-out before, train, save, reload, score after",
        ),
        Row(
            "fine-tune: held-out accuracy",
            f"{r['before']:.0%} -> {r['after']:.0%}",
            "",
            f"{p['held_out']} pairs on {p['held_out_problems']} held-out problems (rephrasings of "
            "the generator's 40 base problems)",
        ),
        Row(
            "fine-tune: peak memory",
            f"{r['peak_mb']:.0f}",
            "MB",
            "whole process, imports included",
        ),
    ]


if __name__ == "__main__":
    child(int(sys.argv[1]))
