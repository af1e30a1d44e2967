"""Measure the reranker on the project's own evaluation set, per kind of broken answer.

    python scripts/evaluate_evalset.py [--model DIR] [--finetune OUT_DIR] [--epochs N] [--seed N]
        [--subtle N] [--train-pairs N] [--learning-rate X] [--no-early-stopping]
        [--other-problem N] [--write-pairs DIR] [--folds K]

The set (``coderank/evalset``) is built by running every reference and broken answer in the
sandbox; it is split by problem, and accuracy (the reference scored above the broken answer) is
given per kind on the held-out problems, with 95% intervals. With ``--finetune`` the reranker is
fine-tuned on the training problems' pairs (decided by execution alone: a cold start, no vote)
into OUT_DIR, and measured again on the same held-out problems. Nothing is promoted. With
``--write-pairs`` the training and held-out pairs are written to DIR/train.jsonl and
DIR/held-out.jsonl, for ``scripts/offline_finetune_reranker.py --data ... --held-out ...``.

With ``--folds K`` (and ``--finetune OUT_DIR``) it cross-validates instead: the problems are split
into K folds, each fold is held out once while the reranker is fine-tuned on the others (into
OUT_DIR/fold-N), and the figures pool every problem: one broken answer of each kind a problem
(Wilson intervals), and every broken answer, all the subtle bugs included (intervals from a
bootstrap over problems, since one problem's pairs are not independent).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coderank.config import from_env
from coderank.errors import CoderankError
from coderank.evalset import load_problems
from coderank.evalset.build import EvalItem, build_eval_set, one_of_each_kind, split_items
from coderank.evalset.crossval import cross_validate, cross_validation_table
from coderank.evalset.score import (
    kind_accuracy,
    kind_table,
    preference_pairs,
    training_pairs,
)
from coderank.execution import Executor
from coderank.finetune.dataset import write_pairs
from coderank.finetune.train import (
    DEFAULT_EPOCHS,
    LEARNING_RATE,
    OTHER_PROBLEM_NEGATIVES,
    PATIENCE,
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
    parser.add_argument(
        "--patience",
        type=int,
        default=PATIENCE,
        help="early stopping: stop after N epochs without a better validation accuracy",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--subtle",
        type=int,
        default=1,
        help="subtle bugs kept a problem (one split: held-out problems are measured on one)",
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
        "--random-batches",
        action="store_true",
        help="draw micro-batches at random, not of pairs of about the same length",
    )
    parser.add_argument(
        "--write-pairs", type=Path, help="write train.jsonl and held-out.jsonl to this folder"
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=0,
        help="cross-validate over K folds of the problems (needs --finetune); 0: one split",
    )
    args = parser.parse_args(argv)
    if args.patience < 1:
        parser.error("--patience counts epochs without a gain: give 1 or more")
    if args.folds and not args.finetune:
        parser.error("--folds fine-tunes once a fold: give --finetune OUT_DIR")
    if args.folds and args.write_pairs:
        parser.error("--write-pairs writes one split's pairs: leave out --folds")
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
        source, model_id = (
            (str(args.model), str(args.model)) if args.model else reranker_source(settings)
        )
        print(
            f"evaluation set: {len(report.items)} problems kept ({len(report.dropped)} dropped), "
            f"built in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        base = CrossEncoderReranker(source, model_id=model_id)
        if args.folds:
            cv = cross_validate(
                report.items,
                base,
                args.finetune,
                folds=args.folds,
                seed=args.seed,
                train_pairs=args.train_pairs,
                options=_finetune_options(args),
                say=lambda line: print(line, file=sys.stderr),
            )
            table = cross_validation_table(cv, model_id=model_id, seed=args.seed)
        else:
            table = _one_split(args, report.items, base, model_id)
    except CoderankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table)
    return 0


def _finetune_options(args: argparse.Namespace) -> dict[str, Any]:
    """The recipe options given on the command line, as ``finetune`` keyword arguments."""
    return {
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
        "early_stopping": not args.no_early_stopping,
        "other_problem_negatives": args.other_problem,
        "length_grouped": not args.random_batches,
    }


def _one_split(
    args: argparse.Namespace,
    items: list[EvalItem],
    base: CrossEncoderReranker,
    model_id: str,
) -> str:
    train, held = split_items(items, seed=args.seed)
    held = [one_of_each_kind(item) for item in held]
    pairs = training_pairs(train, limit=args.train_pairs)
    print(
        f"{len(train)} training problems ({len(preference_pairs(train))} pairs), "
        f"{len(held)} held out ({len(preference_pairs(held))} pairs)",
        file=sys.stderr,
    )
    if args.write_pairs:
        args.write_pairs.mkdir(parents=True, exist_ok=True)
        write_pairs(pairs, args.write_pairs / "train.jsonl")
        write_pairs(preference_pairs(held), args.write_pairs / "held-out.jsonl")
    columns = {model_id: kind_accuracy(base, held)}
    if args.finetune:
        result = finetune(
            pairs,
            base=base,
            out_dir=args.finetune,
            seed=args.seed,
            held_out_pairs=preference_pairs(held),
            **_finetune_options(args),
        )
        if result.epochs_chosen is not None:
            print(f"epochs: {result.epochs_chosen.summary()}", file=sys.stderr)
        tuned = CrossEncoderReranker(str(args.finetune), model_id=str(args.finetune))
        columns[f"fine-tuned ({result.train_seconds:.0f} s)"] = kind_accuracy(tuned, held)
    return kind_table(columns)


if __name__ == "__main__":
    sys.exit(main())
