"""Measure the reranker on the project's own evaluation set, per kind of broken answer.

    python scripts/evaluate_evalset.py [--model DIR] [--finetune OUT_DIR] [--epochs N] [--seed N]
        [--subtle N] [--train-pairs N] [--learning-rate X] [--no-early-stopping]
        [--other-problem N] [--write-pairs DIR]

The set (``coderank/evalset``) is built by running every reference and broken answer in the
sandbox; it is split by problem, and accuracy (the reference scored above the broken answer) is
given per kind on the held-out problems, with 95% intervals. With ``--finetune`` the reranker is
fine-tuned on the training problems' pairs (decided by execution alone: a cold start, no vote)
into OUT_DIR, and measured again on the same held-out problems. Nothing is promoted. With
``--write-pairs`` the training and held-out pairs are written to DIR/train.jsonl and
DIR/held-out.jsonl, for ``scripts/offline_finetune_reranker.py --data ... --held-out ...``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coderank.config import from_env
from coderank.errors import CoderankError
from coderank.evalset import load_problems
from coderank.evalset.build import build_eval_set, one_of_each_kind, split_items
from coderank.evalset.score import kind_accuracy, kind_table, preference_pairs
from coderank.execution import Executor
from coderank.finetune.dataset import write_pairs
from coderank.finetune.train import (
    DEFAULT_EPOCHS,
    LEARNING_RATE,
    OTHER_PROBLEM_NEGATIVES,
    finetune,
)
from coderank.reranker.cross_encoder import CrossEncoderReranker
from coderank.reranker.registry import reranker_source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="measure this reranker folder instead")
    parser.add_argument("--finetune", type=Path, help="fine-tune on the training problems here")
    parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_EPOCHS,
        help="the most epochs with early stopping, the number without",
    )
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--subtle",
        type=int,
        default=1,
        help="subtle bugs per training problem (held-out problems are measured on one)",
    )
    parser.add_argument(
        "--train-pairs",
        type=int,
        default=0,
        help="fine-tune on only the first N training pairs (a team's first votes); 0: all",
    )
    parser.add_argument(
        "--no-early-stopping",
        action="store_true",
        help="train every epoch on all the training pairs (no validation part)",
    )
    parser.add_argument(
        "--other-problem",
        type=int,
        default=OTHER_PROBLEM_NEGATIVES,
        help="extra training pairs per problem: its reference against another problem's",
    )
    parser.add_argument(
        "--write-pairs", type=Path, help="write train.jsonl and held-out.jsonl to this folder"
    )
    args = parser.parse_args(argv)
    try:
        settings = from_env()
        executor = Executor(enabled=settings.execution != "off")
        why = executor.why_off()
        if why is not None:
            raise CoderankError(
                f"the evaluation set is built by running code in the sandbox: {why}"
            )
        started = time.monotonic()
        report = build_eval_set(
            load_problems(), executor.sandbox, seed=args.seed, subtle=args.subtle
        )
        train, held = split_items(report.items, seed=args.seed)
        held = [one_of_each_kind(item) for item in held]
        print(
            f"evaluation set: {len(report.items)} problems kept ({len(report.dropped)} dropped); "
            f"{len(train)} training problems ({len(preference_pairs(train))} pairs), "
            f"{len(held)} held out ({len(preference_pairs(held))} pairs); "
            f"built in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        source, model_id = (
            (str(args.model), str(args.model)) if args.model else reranker_source(settings)
        )
        pairs = preference_pairs(train)
        pairs = pairs[: args.train_pairs] if args.train_pairs > 0 else pairs
        if args.write_pairs:
            args.write_pairs.mkdir(parents=True, exist_ok=True)
            write_pairs(pairs, args.write_pairs / "train.jsonl")
            write_pairs(preference_pairs(held), args.write_pairs / "held-out.jsonl")
        base = CrossEncoderReranker(source, model_id=model_id)
        columns = {model_id: kind_accuracy(base, held)}
        if args.finetune:
            result = finetune(
                pairs,
                base=base,
                out_dir=args.finetune,
                seed=args.seed,
                epochs=args.epochs,
                learning_rate=args.learning_rate,
                held_out_pairs=preference_pairs(held),
                early_stopping=not args.no_early_stopping,
                other_problem_negatives=args.other_problem,
            )
            if result.epochs_chosen is not None:
                print(f"epochs: {result.epochs_chosen.summary()}", file=sys.stderr)
            tuned = CrossEncoderReranker(str(args.finetune), model_id=str(args.finetune))
            columns[f"fine-tuned ({result.train_seconds:.0f} s)"] = kind_accuracy(tuned, held)
    except CoderankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(kind_table(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
