"""Fine-tune the reranker in use on exported preference pairs and compare it on held-out problems.

    python scripts/offline_finetune_reranker.py (--data data/pairs.jsonl | --from-executions) \
        [--held-out pairs.jsonl] [--out MODELS_DIR/reranker-ft/offline-YYYYmmdd-HHMMSS] \
        [--epochs N] [--seed N] [--no-early-stopping] [--force]

The pairs come from ``scripts/export_feedback.py`` (``--format pairs`` or ``dpo``), from any tool
that writes JSON lines of ``{"query" or "prompt", "chosen", "rejected"}`` (an optional
``problem_id`` groups them for the split by problem, else the problem's text does), or, with
``--from-executions`` (a cold start, before anyone has voted), from the store's comparisons whose
answers execution decided. The held-out pairs are a split of the pairs by problem, or
``--held-out`` (for a cold start, by default, the team's voted pairs in the store, when there are
any). The new model is promoted (used by the bot) only if it does better than the current one on
the held-out pairs, or with ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coderank.config import from_env
from coderank.errors import CoderankError
from coderank.evaluation.formatting import percent as as_percent
from coderank.evaluation.metrics import Estimate
from coderank.evaluation.report import excluded_voters
from coderank.finetune.dataset import PreferencePair, check_enough, read_pairs, split_by_problem
from coderank.finetune.executions import execution_pairs
from coderank.finetune.export import voted_pairs
from coderank.finetune.promotion import promote_if_better
from coderank.finetune.results import FineTuneResult
from coderank.finetune.train import DEFAULT_EPOCHS, finetune
from coderank.reranker.registry import reranker_source
from coderank.store import Store, open_store


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def percent(estimate: Estimate) -> str:
    if estimate.value is None:
        return "n/a"
    if estimate.low is None or estimate.high is None:
        return as_percent(estimate.value)
    low, high = as_percent(estimate.low), as_percent(estimate.high)
    return f"{as_percent(estimate.value)} [{low}, {high}]"


def tau(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def format_summary(result: FineTuneResult) -> str:
    """The run as a short table: pairs used, held-out figures before and after, the model."""
    p = result.pairs
    ran = result.epochs_chosen.epochs_run if result.epochs_chosen else result.epochs
    rows = [
        ("pairs", f"{p.total} ({p.train} train on {p.train_problems} problems, "
         + (f"+{p.other_problem} against another problem's answer, " if p.other_problem else "")
         + (f"{p.validation} validation on {p.validation_problems}, " if p.validation else "")
         + f"{p.held_out} held out on {p.held_out_problems})"),
        ("base model", result.base_model),
        ("held-out accuracy before", percent(result.before.accuracy)),
        ("held-out accuracy after", percent(result.after.accuracy)),
        *((f"  {kind}", f"{percent(result.before.by_kind.get(kind, e))} -> {percent(e)}")
          for kind, e in result.after.by_kind.items()),
        ("Kendall tau before / after", f"{tau(result.before.kendall_tau)} / "
         f"{tau(result.after.kendall_tau)}"),
        ("training", f"{ran} epoch(s), {result.train_seconds:.0f} s, "
         f"{result.examples_per_second:.1f} pairs/s"),
        *((("epochs", result.epochs_chosen.summary()),) if result.epochs_chosen else ()),
        ("model", result.model),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def progress(stage: str, fraction: float) -> None:
    if stage == "evaluating" and fraction == 0.0:
        print("evaluating on the held-out pairs ...", file=sys.stderr, flush=True)


def cold_start_pairs(
    store: Store, held: list[PreferencePair] | None, without: frozenset[str]
) -> tuple[list[PreferencePair], list[PreferencePair] | None]:
    """The execution-decided pairs to train on, and what to evaluate on: ``held``, else the
    team's voted pairs in the store, else (None) a split of the execution pairs."""
    pairs, count = execution_pairs(store)
    print(f"execution-decided pairs: {count.summary()}", file=sys.stderr)
    if held is None:
        voted = voted_pairs(store, without=without)
        if voted:
            print(f"held out: the team's {len(voted)} voted pairs", file=sys.stderr)
            return pairs, voted
        print("held out: no voted pairs yet, a split of the execution pairs", file=sys.stderr)
    return pairs, held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data", type=Path, help="preference pairs as JSON Lines (query/prompt, chosen, rejected)"
    )
    source.add_argument(
        "--from-executions",
        action="store_true",
        help="train on the pairs execution decided in the store (no vote needed)",
    )
    parser.add_argument(
        "--held-out", type=Path, help="evaluate on these pairs (JSON Lines) instead of a split"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for the new model (default MODELS_DIR/reranker-ft/offline-YYYYmmdd-HHMMSS)",
    )
    parser.add_argument(
        "--epochs",
        type=positive,
        default=DEFAULT_EPOCHS,
        help="the most epochs with early stopping, the number without",
    )
    parser.add_argument(
        "--no-early-stopping",
        action="store_true",
        help="train every epoch on all the training pairs (no validation part)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--force", action="store_true", help="promote the new model even if it is not better"
    )
    args = parser.parse_args(argv)
    try:
        settings = from_env()
        stamp = datetime.now().strftime("offline-%Y%m%d-%H%M%S")
        out = args.out or Path(settings.models_dir) / "reranker-ft" / stamp
        held = read_pairs(args.held_out) if args.held_out else None
        if args.from_executions:
            store = open_store(settings)
            without = excluded_voters(store, settings.flagged_voters)
            pairs, held = cold_start_pairs(store, held, without)
        else:
            pairs = read_pairs(args.data)
            # Too few pairs fail here, before the store (and its folder) or the model is opened.
            check_enough(*split_by_problem(pairs, seed=args.seed))
            store = open_store(settings)  # where the promotion is recorded, for every replica
        result = finetune(
            pairs,
            base=reranker_source(settings, store),
            out_dir=out,
            seed=args.seed,
            epochs=args.epochs,
            held_out_pairs=held,
            early_stopping=not args.no_early_stopping,
            on_progress=progress,
        )
    except CoderankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(result))

    # --- promotion: the bot uses the new model only if it beats the current one (or --force) ---
    try:
        promotion = promote_if_better(settings, result, force=args.force, store=store)
    except CoderankError as exc:
        print(f"error: the model was saved but not promoted: {exc}", file=sys.stderr)
        return 2
    print(promotion.reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
