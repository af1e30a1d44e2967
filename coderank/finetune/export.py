"""From closed comparisons to preference pairs: one per comparison whose voters' majority chose A
or B (open comparisons are not decided yet and are left out).

The JSON Lines format (``scripts/export_feedback.py``, read back by ``dataset.read_pairs``) is in
``docs/data-model.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coderank.evaluation.pairs import JudgedPair, judged_pairs
from coderank.evaluation.report import closed_between
from coderank.finetune.dataset import PreferencePair, parse_pair
from coderank.models import CHOICES
from coderank.store import RESPONSES, Store, Window, doc_id


@dataclass
class ExportCount:
    """What an export wrote and what it left out, and why."""

    exported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> comparisons

    def summary(self) -> str:
        left_out = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return f"{self.exported} pairs exported" + (f"; left out: {left_out}" if left_out else "")


def preference_line(
    pair: JudgedPair, chosen: dict[str, Any], rejected: dict[str, Any]
) -> dict[str, Any]:
    """One JSON Lines record: the problem, the answer the majority chose and the other one."""
    counts = dict(zip(CHOICES, pair.counts, strict=True))
    return {
        "comparison_id": pair.comparison_id,
        "query": chosen["problem"],
        "chosen": chosen["text"],
        "rejected": rejected["text"],
        "chosen_agent": chosen["agent"],
        "rejected_agent": rejected["agent"],
        "votes": counts,
        "created_at": pair.closed_at,
    }


def preference_lines(
    pairs: list[JudgedPair],
    response: Callable[[str, str], dict[str, Any] | None],
    count: ExportCount,
) -> Iterator[dict[str, Any]]:
    """Decisive pairs as records; ties, both-bad and pairs with a missing answer are counted in
    ``count.skipped`` and left out. ``response(comparison_id, agent)`` looks an answer up."""
    for pair in pairs:
        if pair.outcome in ("tie", "both_bad"):
            count.skipped[pair.outcome.replace("_", "-")] += 1
            continue
        if not pair.decisive:
            continue
        winner, loser = (
            (pair.agent_a, pair.agent_b) if pair.outcome == "A" else (pair.agent_b, pair.agent_a)
        )
        chosen = response(pair.comparison_id, winner)
        rejected = response(pair.comparison_id, loser)
        if chosen is None or rejected is None:
            count.skipped["answer missing"] += 1
            continue
        count.exported += 1
        yield preference_line(pair, chosen, rejected)


def voted_pairs(
    store: Store, *, since: str | None = None, without: Collection[str] = ()
) -> list[PreferencePair]:
    """The team's decisive pairs, in memory (what :func:`export_pairs` writes)."""
    pairs = judged_pairs(closed_between(store, Window(since, None), without=without))
    lines = preference_lines(pairs, _responses(store), ExportCount())
    return [parse_pair(line) for line in lines]


def _responses(store: Store) -> Callable[[str, str], dict[str, Any] | None]:
    def response(comparison_id: str, agent: str) -> dict[str, Any] | None:
        return store.get(RESPONSES, doc_id(comparison_id, agent))

    return response


def export_pairs(
    store: Store, out: Path, *, since: str | None = None, without: Collection[str] = ()
) -> ExportCount:
    """Write the decisive comparisons closed since ``since`` to ``out`` (JSON Lines), through a
    temporary file, so a failed export leaves no half file (``without``: voters left out)."""
    pairs = judged_pairs(closed_between(store, Window(since, None), without=without))
    count = ExportCount()
    response = _responses(store)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w") as f:
            for line in preference_lines(pairs, response, count):
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return count
