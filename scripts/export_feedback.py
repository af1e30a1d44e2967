"""Export the team's decisive votes as preference pairs for fine-tuning the reranker.

    python scripts/export_feedback.py [--out data/pairs.jsonl] [--since 2026-11-01]

One JSON line per comparison whose voters' majority chose A or B (the problem, the chosen and the
rejected answer, their agents, the vote counts); ties and both-bad are left out and counted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coderank.cli import day
from coderank.config import from_env
from coderank.errors import CoderankError
from coderank.evaluation.report import excluded_voters
from coderank.finetune.export import export_pairs
from coderank.store import open_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/pairs.jsonl"), help="JSONL file")
    parser.add_argument(
        "--since", type=day, help="first day of closed comparisons to include (YYYY-MM-DD)"
    )
    args = parser.parse_args(argv)
    try:
        settings = from_env()
        store = open_store(settings)
        without = excluded_voters(store, settings.flagged_voters)
        count = export_pairs(store, args.out, since=args.since, without=without)
    except (CoderankError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{count.summary()} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
