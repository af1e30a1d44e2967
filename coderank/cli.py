"""The command line: ``ask``, ``vote``, ``close``, ``stats`` and ``store copy|migrate``."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

from coderank.agents.prompts import AGENTS, LABELS
from coderank.config import STORES, Settings, from_env
from coderank.errors import (
    CoderankError,
    ConfigError,
    InvalidProblemError,
    InvalidVoteError,
    ModelUnavailableError,
    UnknownComparisonError,
)
from coderank.logs import setup_logging
from coderank.models import BY_ADMIN, BY_REQUESTER, CHOICES, Comparison
from coderank.problems import validate_problem
from coderank.store import COLLECTIONS, COMPARISONS

if TYPE_CHECKING:
    from coderank.services import Services

# Exit code 2: something to fix before trying again (input, settings, a model that cannot start).
BAD_INPUT = (
    ConfigError,
    InvalidProblemError,
    InvalidVoteError,
    UnknownComparisonError,
    ModelUnavailableError,
)


def day(text: str) -> str:
    """An argparse type: a ``YYYY-MM-DD`` date, as the ISO string windows compare with."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: expected YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m coderank", description="Team pairwise feedback on AI-written Python code."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="ask the three agents, show two answers, take a vote")
    ask.add_argument("problem", help="the Python problem, in quotes")
    ask.add_argument("--vote", choices=CHOICES, help="vote without being asked")
    ask.add_argument("--user", default=None, help="who is voting (default: your login)")
    vote = sub.add_parser("vote", help="vote on an open comparison")
    vote.add_argument("comparison_id")
    vote.add_argument("choice", choices=CHOICES)
    vote.add_argument("--user", default=None)
    close = sub.add_parser("close", help="close voting on a comparison and reveal the agents")
    close.add_argument("comparison_id")
    close.add_argument("--user", default=None)
    store = sub.add_parser("store", help="manage the document stores")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    copy = store_sub.add_parser("copy", help="copy every document from one store to another")
    copy.add_argument("--from", dest="source", choices=STORES, required=True)
    copy.add_argument("--to", dest="target", choices=STORES, required=True)
    store_sub.add_parser(
        "migrate",
        help="write the comparisons collection of a store made by the previous version "
        "(from the checkpoints; safe to run again)",
    )
    stats = sub.add_parser("stats", help="count the stored documents")
    stats.add_argument("--comparison", default=None, help="count only this comparison's")
    return parser


def _user(name: str | None) -> str:
    return name or f"cli:{getpass.getuser()}"


class Progress:
    """Prints what the graph is doing, one line per finished step, to stderr."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()
        self.answered = 0

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f}s] {text}", file=self.out, flush=True)

    def __call__(self, node: str, update: Mapping[str, Any]) -> None:
        if node in AGENTS:
            answer = update["answers"][0]
            if answer["error"]:
                self.say(f"{LABELS[node]} failed: {answer['error']}")
            else:
                self.say(f"{LABELS[node]} answered ({answer['latency_s']:.1f} s)")
            self.answered += 1
            if self.answered == len(AGENTS):
                self.say("scoring the answers with the reranker")
        elif node == "score" and "scores" in update:
            self.say(f"reranker scored {len(update['scores'])} answers")
        elif node == "tester" and update.get("tests"):
            self.say(f"the Tester wrote {len(update['tests'])} tests from the problem alone")
        elif node == "execute" and "executions" in update:
            self.say(f"ran {len(update['executions'])} answers in the sandbox")
        elif node == "choose_pair":
            self.say("pair chosen")


def _print_pair(comparison: Comparison, out: TextIO, *, checks: bool = False) -> None:
    """The problem and the pair, blind; what running them showed only with ``checks``."""
    print(f"\nProblem: {comparison.problem}\n", file=out)
    for label, answer in comparison.shown().items():
        print(f"===== Answer {label} =====", file=out)
        print(answer.text.strip(), file=out)
        print(file=out)
    if checks and comparison.checks:
        print(f"Checks: {comparison.checks_text()}\n", file=out)


def _ask_vote(stdin: TextIO, out: TextIO) -> str | None:
    options = "/".join(CHOICES)
    while True:
        print(f"Which answer is better? [{options}]: ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            return None
        choice = {c.lower(): c for c in CHOICES}.get(line.strip().lower())
        if choice:
            return choice
        print(f"Please type one of {options}.", file=out)


def _reveal(comparison: Comparison, out: TextIO) -> None:
    print("\nVoting closed.", file=out)
    for label, answer in comparison.shown().items():
        score = comparison.scores[answer.agent]
        print(
            f"Answer {label} was written by {LABELS[answer.agent]} (reranker score {score:.4f})",
            file=out,
        )
    if comparison.checks:
        print(f"Checks: {comparison.checks_text()}", file=out)
    for test in comparison.tests:
        print(f"  Tester: {test}", file=out)
    preferred = comparison.reranker_pick or "neither (equal scores)"
    print(f"The reranker ({comparison.reranker_model}) preferred {preferred}.", file=out)
    agrees = comparison.reranker_agrees
    verdict = (
        ""
        if agrees is None
        else (" The reranker agreed." if agrees else " The reranker disagreed.")
    )
    print(f"Outcome: {comparison.outcome or 'no votes'}.{verdict}", file=out)
    print(comparison.pick_text(), file=out)


def _services(settings: Settings, err: TextIO) -> Services:
    from coderank.services import build_services

    services = build_services(settings)
    services.migrate_if_needed(err)
    return services


def cmd_ask(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    problem = validate_problem(args.problem)
    progress = Progress(err)
    services = _services(settings, err)
    try:
        if services.local_model:
            progress.say("starting the embedded model")
            services.check_model()  # a model that cannot run fails here, before anything is stored
        progress.say(
            f"generating 3 answers with {settings.llm_backend} model; this can take a minute"
        )
        comparison = services.comparisons.start(
            problem, requester=_user(args.user), source="cli", on_progress=progress
        )
        cid = comparison.comparison_id
        _print_pair(comparison, out, checks=settings.checks_while_voting)
        choice = args.vote or (_ask_vote(sys.stdin, out) if sys.stdin.isatty() else None)
        if choice is None:
            print(
                "No vote recorded. Vote later with: "
                f"python -m coderank vote {cid} A|B|tie|both_bad",
                file=out,
            )
            return 0
        user = _user(args.user)
        result = services.comparisons.vote(cid, user=user, choice=choice)
        print(f"Your vote ({choice}) is recorded for comparison {cid}.", file=out)
        final = (
            result.comparison
            if result.closed  # VOTE_QUORUM=1: this vote closed it
            else services.comparisons.close(cid, user=user)
        )
        _reveal(final, out)
        return 0
    finally:
        services.close()


def cmd_vote(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    services = _services(settings, err)
    try:
        result = services.comparisons.vote(
            args.comparison_id, user=_user(args.user), choice=args.choice
        )
        note = "" if result.changed else " (unchanged)"
        print(
            f"Your vote ({result.choice}) is recorded{note}; {result.voters} voter(s) so far.",
            file=out,
        )
        if result.closed:
            _reveal(result.comparison, out)
        return 0
    finally:
        services.close()


def cmd_close(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    services = _services(settings, err)
    try:
        user = _user(args.user)
        requester = services.comparisons.get(args.comparison_id).requester
        how = BY_REQUESTER if user == requester else BY_ADMIN
        _reveal(services.comparisons.close(args.comparison_id, user=user, how=how), out)
        return 0
    finally:
        services.close()


def cmd_stats(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    from coderank.store import open_store

    store = open_store(settings)
    try:
        for name in COLLECTIONS:
            key = "_id" if name == COMPARISONS else "comparison_id"
            where = {key: args.comparison} if args.comparison else None
            print(f"{name} {store.count(name, where)}", file=out)
        return 0
    finally:
        store.close()


def cmd_store(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if args.store_command == "migrate":
        return _migrate(settings, out, err)
    from tqdm import tqdm

    from coderank.store import open_store
    from coderank.store.copy import copy_store

    if args.source == args.target:
        raise ConfigError(f"--from and --to are both {args.source}: nothing to copy")
    source = open_store(settings, args.source)
    target = open_store(settings, args.target)
    try:
        total = sum(source.count(name) for name in COLLECTIONS)
        with tqdm(total=total, unit="doc", file=err, desc=f"{args.source} -> {args.target}") as bar:
            counts = copy_store(source, target, on_batch=lambda _name, n: bar.update(n))
        for c in counts:
            verdict = "match" if c.matches else "DIFFER"
            print(
                f"{c.collection}: copied {c.copied}; {args.source} {c.source}, "
                f"{args.target} {c.target} ({verdict})",
                file=out,
            )
        return 0 if all(c.matches for c in counts) else 1
    finally:
        source.close()
        target.close()


def _migrate(settings: Settings, out: TextIO, err: TextIO) -> int:
    from tqdm import tqdm

    from coderank.migrate import migrate
    from coderank.services import build_services

    services = build_services(settings)
    try:
        with tqdm(unit="comparison", file=err, desc="migrate") as bar:
            count = migrate(services.store, services.comparisons, on_progress=bar.update)
        print(count.summary(), file=out)
        return 0 if count.matches else 1
    finally:
        services.close()


COMMANDS = {
    "ask": cmd_ask,
    "vote": cmd_vote,
    "close": cmd_close,
    "stats": cmd_stats,
    "store": cmd_store,
}


def main(
    argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run one command; returns the exit code (2 for bad input or settings, 1 for failures)."""
    args = _parser().parse_args(argv)
    try:
        settings = from_env()
        # Warnings and errors only (progress is printed), with LOG_FORMAT and secrets scrubbed.
        setup_logging(
            log_format=settings.log_format,
            secrets=settings.secrets(),
            level=logging.WARNING,
            text_format="%(levelname)s %(name)s: %(message)s",
        )
        return COMMANDS[args.command](args, settings, out, err)
    except BAD_INPUT as exc:
        print(f"error: {exc}", file=err)
        return 2
    except CoderankError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: what was finished is stored; an open comparison can still take votes",
            file=err,
        )
        return 130
