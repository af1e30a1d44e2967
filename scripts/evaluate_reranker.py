"""Print how well the reranker agrees with the team's votes, and store the run.

    python scripts/evaluate_reranker.py [--since 2026-11-01] [--until 2026-11-24] [--model DIR]

With ``--model`` the stored pairs are re-scored by that reranker folder, so two models are compared
on the same pairs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coderank.cli import day
from coderank.config import from_env
from coderank.errors import CoderankError
from coderank.evaluation.formatting import format_report
from coderank.evaluation.report import compare_store, evaluate_store, excluded_voters
from coderank.store import open_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--since", type=day, help="first day of closed comparisons to include (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--until", type=day, help="first day of closed comparisons to leave out (YYYY-MM-DD)"
    )
    parser.add_argument("--model", type=Path, help="re-score the pairs with this reranker folder")
    args = parser.parse_args(argv)
    if args.model is not None and not args.model.is_dir():
        print(f"error: --model {args.model} is not a folder", file=sys.stderr)
        return 2
    try:
        settings = from_env()
        store = open_store(settings)
        window = {"since": args.since, "until": args.until}
        without = excluded_voters(store, settings.flagged_voters)
        if args.model is None:
            print(format_report(evaluate_store(store, **window, without=without)))
            return 0
        from coderank.reranker.cross_encoder import CrossEncoderReranker

        path = str(args.model.resolve())
        reranker = CrossEncoderReranker(path, model_id=path)
        stored, rescored = compare_store(store, reranker, **window, without=without)
    except CoderankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("== the stored scores ==")
    print(format_report(stored))
    print(f"\n== the same pairs scored by {path} ==")
    print(format_report(rescored))
    return 0


if __name__ == "__main__":
    sys.exit(main())
