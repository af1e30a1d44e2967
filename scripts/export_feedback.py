"""Export the team's decisive votes as preference pairs for fine-tuning the reranker.

    python scripts/export_feedback.py [--format pairs|dpo|hf] [--out PATH] [--since 2026-11-01] \
        [--keep-ids]

One record per comparison whose voters' majority chose A or B; ties and both-bad are left out and
counted. ``pairs`` (the default, data/pairs.jsonl): JSON lines with the problem, the chosen and
the rejected answer, their agents, the vote counts. ``dpo`` (data/pairs-dpo.jsonl): TRL's
preference format, JSON lines of ``prompt``, ``chosen``, ``rejected``. ``hf`` (data/pairs-hf/): the
same columns as a Hugging Face ``datasets`` folder (``datasets.load_from_disk``). Tokens, e-mail
addresses and Slack user ids are scrubbed from the texts, and ``dpo``/``hf`` records carry no
comparison id, unless ``--keep-ids``.
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
from coderank.finetune.export import FORMATS, export_pairs
from coderank.store import open_store

DEFAULT_OUT = {
    "pairs": Path("data/pairs.jsonl"),
    "dpo": Path("data/pairs-dpo.jsonl"),
    "hf": Path("data/pairs-hf"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=FORMATS, default="pairs", help="default: pairs")
    parser.add_argument(
        "--out",
        type=Path,
        help="JSONL file, or folder for hf (default: data/pairs.jsonl, "
        "data/pairs-dpo.jsonl, data/pairs-hf)",
    )
    parser.add_argument(
        "--since", type=day, help="first day of closed comparisons to include (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--keep-ids",
        action="store_true",
        help="keep tokens, e-mail addresses, Slack user ids and comparison ids",
    )
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_OUT[args.format]
    try:
        settings = from_env()
        store = open_store(settings)
        without = excluded_voters(store, settings.flagged_voters)
        count = export_pairs(
            store, out, since=args.since, without=without, fmt=args.format, keep_ids=args.keep_ids
        )
    except (CoderankError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{count.summary()} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
