"""Preference pairs exported from the team's votes: reading, validating and splitting them.

One JSON object a line, one line per decisive comparison (see ``scripts/export_feedback.py``). A
line needs only the problem (``query``, or TRL's ``prompt``), ``chosen`` and ``rejected``: the
other fields of CodeRank's own export are optional, so plain preference pairs written by any tool
(and the ``--format dpo`` export) read too. The split is by problem (``problem_id`` when a line
has one, else the problem's text), so the held-out accuracy measures answers to problems the
model never saw.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coderank.errors import FineTuneError, FineTuneInputError

# Below this many pairs a fine-tune learns noise and its held-out figure says nothing.
MIN_PAIRS = 20
MIN_HELD_OUT_PROBLEMS = 1

TEXT_FIELDS = ("query", "chosen", "rejected")
# What CodeRank's own export adds to the texts; optional when reading ("" or {} if absent).
OPTIONAL_STRINGS = ("comparison_id", "chosen_agent", "rejected_agent", "created_at")
FIELDS = ("comparison_id", *TEXT_FIELDS, "chosen_agent", "rejected_agent", "created_at", "votes")
# TRL's preference format names the problem ``prompt``.
QUERY_ALIASES = ("query", "prompt")


@dataclass(frozen=True)
class PreferencePair:
    """One decisive comparison: the problem, the answer the team preferred and the other one."""

    comparison_id: str
    query: str
    chosen: str
    rejected: str
    chosen_agent: str
    rejected_agent: str
    votes: dict[str, int] = field(hash=False)
    created_at: str
    # What is wrong with the rejected answer, when known (the evaluation set's kinds); optional.
    kind: str = ""
    # The problem as another tool names it; when empty, the problem is its text (problem_key).
    problem_id: str = ""

    @property
    def problem(self) -> str:
        """What the split by problem groups by: ``problem_id``, else the problem's text."""
        return self.problem_id or problem_key(self.query)

    def to_json(self) -> dict[str, Any]:
        """The pair as one line of the export format (a plain dict)."""
        line = {name: getattr(self, name) for name in FIELDS}
        extra = {"kind": self.kind, "problem_id": self.problem_id}
        return {**line, **{name: value for name, value in extra.items() if value}}


def parse_pair(record: object) -> PreferencePair:
    """The pair in one decoded JSON line: CodeRank's export, or a minimal ``{"query" (or
    "prompt"), "chosen", "rejected"}`` object with any of the other fields.

    Raises:
        FineTuneInputError: what is wrong with it, in a few words.
    """
    if not isinstance(record, dict):
        raise FineTuneInputError(f"expected a JSON object, got {type(record).__name__}")
    missing = [] if any(name in record for name in QUERY_ALIASES) else ["'query' (or 'prompt')"]
    missing += [repr(name) for name in TEXT_FIELDS[1:] if name not in record]
    if missing:
        raise FineTuneInputError(f"missing field {', '.join(missing)}")
    texts = {"query": _query(record), **{name: _string(record, name) for name in TEXT_FIELDS[1:]}}
    for name, text in texts.items():
        if not text.strip():
            raise FineTuneInputError(f"field {_named(record, name)!r} is empty")
    votes = record.get("votes", {})
    if not isinstance(votes, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in votes.values()
    ):
        raise FineTuneInputError("field 'votes' is not an object of vote counts")
    optional = {name: _string(record, name) for name in (*OPTIONAL_STRINGS, "kind")}
    return PreferencePair(**texts, **optional, votes=votes, problem_id=_problem_id(record))


def _query(record: dict[str, Any]) -> str:
    values = [_string(record, name) for name in QUERY_ALIASES if name in record]
    if len(values) == 2 and problem_key(values[0]) != problem_key(values[1]):
        raise FineTuneInputError("fields 'query' and 'prompt' differ (give one of them)")
    return values[0]


def _problem_id(record: dict[str, Any]) -> str:
    """The optional ``problem_id``: a string or an integer, as other tools number problems."""
    value = record.get("problem_id", "")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FineTuneInputError("field 'problem_id' is not a string or an integer")
    if "problem_id" in record and not value.strip():
        raise FineTuneInputError("field 'problem_id' is empty")
    return value.strip()


def _named(record: dict[str, Any], name: str) -> str:
    """The field ``name`` as the line spells it (``prompt`` for a query given as such)."""
    return "prompt" if name == "query" and "query" not in record else name


def _string(record: dict[str, Any], name: str) -> str:
    value = record.get(name, "")
    if not isinstance(value, str):
        raise FineTuneInputError(f"field {name!r} is not a string")
    return value


def read_pairs(path: Path) -> list[PreferencePair]:
    """Every pair in a JSON Lines export; blank lines are skipped.

    Raises:
        FineTuneError: the file is missing or unreadable, or a line is not a valid pair (the
            message names the line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FineTuneError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FineTuneError(f"{path}: cannot read it: {exc}") from exc
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FineTuneError(f"{path}: line {number}: not JSON ({exc.msg})") from exc
        try:
            pairs.append(parse_pair(record))
        except FineTuneInputError as exc:
            raise FineTuneError(f"{path}: line {number}: {exc}") from exc
    return pairs


def write_pairs(pairs: Iterable[PreferencePair], path: Path) -> None:
    """Write ``pairs`` as JSON Lines (the format ``read_pairs`` reads)."""
    with path.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair.to_json(), ensure_ascii=False) + "\n")


def problem_key(query: str) -> str:
    """The problem a pair belongs to: its text with runs of whitespace made one space."""
    return " ".join(query.split())


def problems(pairs: Iterable[PreferencePair]) -> set[str]:
    return {p.problem for p in pairs}


def split_by_problem(
    pairs: Sequence[PreferencePair], *, held_out: float = 0.2, seed: int = 0
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """``(train, held_out)``: every pair of a problem on the same side, pairs in input order.

    About ``held_out`` of the distinct problems are held out, and at least one problem lies on each
    side when there are two or more. The same pairs and seed give the same split, whatever their
    order.
    """
    if not 0 < held_out < 1:
        raise FineTuneInputError(f"held_out must be between 0 and 1, got {held_out}")
    keys = sorted(problems(pairs))
    random.Random(seed).shuffle(keys)
    count = min(max(round(len(keys) * held_out), 1), len(keys) - 1) if len(keys) >= 2 else 0
    held = set(keys[:count])
    train = [p for p in pairs if p.problem not in held]
    test = [p for p in pairs if p.problem in held]
    return train, test


def split_validation(
    train: Sequence[PreferencePair], *, share: float, seed: int = 0, min_problems: int
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """``(train, validation)``: about ``share`` of the training problems set aside (by problem, as
    ``split_by_problem``) to choose the epoch on; no validation, everything trained on, when that
    share is fewer than ``min_problems`` problems."""
    if round(len(problems(train)) * share) < min_problems:
        return list(train), []
    return split_by_problem(train, held_out=share, seed=seed)


def other_problem_pairs(
    pairs: Sequence[PreferencePair], *, per_problem: int, seed: int = 0
) -> list[PreferencePair]:
    """Extra pairs in which a problem's preferred answer beats the preferred answer to another
    problem of ``pairs`` (``per_problem`` of them, drawn with ``seed``), so that a reranker learns
    to read the problem and not only to judge the code."""
    first: dict[str, PreferencePair] = {}
    for pair in pairs:
        first.setdefault(pair.problem, pair)
    keys = sorted(first)
    rng = random.Random(seed)
    extra = []
    for key in keys:
        mine = first[key]
        others = [k for k in keys if k != key]
        for n, other in enumerate(rng.sample(others, min(per_problem, len(others)))):
            extra.append(
                PreferencePair(
                    comparison_id=f"{mine.comparison_id}:other-problem:{n}",
                    query=mine.query,
                    chosen=mine.chosen,
                    rejected=first[other].chosen,
                    chosen_agent=mine.chosen_agent,
                    rejected_agent=first[other].chosen_agent,
                    votes={},
                    created_at=mine.created_at,
                    problem_id=mine.problem_id,
                )
            )
    return extra


def check_enough(
    train: Sequence[PreferencePair],
    held: Sequence[PreferencePair],
    *,
    min_pairs: int = MIN_PAIRS,
) -> None:
    """Raise ``FineTuneError`` unless there are ``min_pairs`` pairs and a held-out problem."""
    total = len(train) + len(held)
    if total < min_pairs:
        raise FineTuneError(f"too few pairs: {total}, need at least {min_pairs}")
    if not train or len(problems(held)) < MIN_HELD_OUT_PROBLEMS:
        count = len(problems([*train, *held]))
        raise FineTuneError(
            f"too few pairs: {total} pairs on {count} problem(s), need at least "
            f"{MIN_HELD_OUT_PROBLEMS + 1} problems (one held out for evaluation)"
        )
