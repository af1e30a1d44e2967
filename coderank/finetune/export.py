"""From closed comparisons to preference pairs: one per comparison whose voters' majority chose A
or B (open comparisons are not decided yet and are left out).

Three formats (``scripts/export_feedback.py --format``): ``pairs``, CodeRank's JSON Lines (read
back by ``dataset.read_pairs``, described in ``docs/data-model.md``); ``dpo``, TRL's preference
format (JSON Lines of ``prompt``, ``chosen``, ``rejected``, which ``read_pairs`` reads too); ``hf``,
the same columns as a Hugging Face ``datasets`` folder. Unless ``keep_ids``, the texts are scrubbed
of tokens, e-mail addresses and Slack user ids, and the ``dpo`` and ``hf`` records carry no
comparison id (the link back to who voted). No format names a voter: votes are counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coderank.errors import FineTuneInputError
from coderank.evaluation.pairs import JudgedPair, judged_pairs
from coderank.evaluation.report import closed_between
from coderank.finetune.dataset import TEXT_FIELDS, PreferencePair, parse_pair
from coderank.finetune.hf_dataset import save_dataset
from coderank.finetune.scrub import describe, scrub
from coderank.models import CHOICES
from coderank.store import RESPONSES, Store, Window, doc_id

FORMATS = ("pairs", "dpo", "hf")
DPO_FIELDS = ("prompt", "chosen", "rejected")


@dataclass
class ExportCount:
    """What an export wrote and what it left out, and why."""

    exported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> comparisons
    scrubbed: Counter[str] = field(default_factory=Counter)  # kind (scrub.TOKEN ...) -> finds

    def summary(self) -> str:
        left_out = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        scrubbed = describe(self.scrubbed)
        return (
            f"{self.exported} pairs exported"
            + (f"; left out: {left_out}" if left_out else "")
            + (f"; scrubbed: {scrubbed}" if scrubbed else "")
        )


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


def scrubbed_line(line: dict[str, Any], found: Counter[str]) -> dict[str, Any]:
    """``line`` with its problem and answers scrubbed (``coderank.finetune.scrub``)."""
    return {**line, **{name: scrub(line[name], found) for name in TEXT_FIELDS}}


def dpo_line(line: dict[str, Any], *, keep_ids: bool = False) -> dict[str, Any]:
    """A record of :func:`preference_line` in TRL's preference format (``keep_ids``: with its
    comparison id)."""
    record = {"prompt": line["query"], "chosen": line["chosen"], "rejected": line["rejected"]}
    return {**record, "comparison_id": line["comparison_id"]} if keep_ids else record


def export_pairs(
    store: Store,
    out: Path,
    *,
    since: str | None = None,
    without: Collection[str] = (),
    fmt: str = "pairs",
    keep_ids: bool = False,
) -> ExportCount:
    """Write the decisive comparisons closed since ``since`` to ``out`` in the format ``fmt``
    (see the module), through a temporary file or folder, so a failed export leaves no half file
    (``without``: voters left out; ``keep_ids``: no scrubbing, comparison ids kept).

    Raises:
        FineTuneInputError: an unknown ``fmt``.
        FineTuneError: an ``hf`` folder ``out`` that is not empty, or one that cannot be written.
    """
    if fmt not in FORMATS:
        raise FineTuneInputError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    pairs = judged_pairs(closed_between(store, Window(since, None), without=without))
    count = ExportCount()
    lines = preference_lines(pairs, _responses(store), count)
    if not keep_ids:
        lines = (scrubbed_line(line, count.scrubbed) for line in lines)
    if fmt != "pairs":
        lines = (dpo_line(line, keep_ids=keep_ids) for line in lines)
    if fmt == "hf":
        save_dataset(lines, (*DPO_FIELDS, "comparison_id") if keep_ids else DPO_FIELDS, out)
    else:
        _write_lines(lines, out)
    return count


def _write_lines(lines: Iterable[dict[str, Any]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
