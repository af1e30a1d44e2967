"""The benchmark table: rows, percentiles and plain-text formatting."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    metric: str
    value: str
    unit: str
    note: str


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def format_table(rows: Sequence[Row]) -> str:
    """Rows as plain text with aligned columns."""
    header = Row("metric", "value", "unit", "note / target")
    cells = [astuple_row(header), *(astuple_row(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]

    def line(c: tuple[str, str, str, str]) -> str:
        return " | ".join(
            [c[0].ljust(widths[0]), c[1].rjust(widths[1]), c[2].ljust(widths[2]), c[3]]
        ).rstrip()

    rule = "-+-".join("-" * w for w in [*widths, max(len(c[3]) for c in cells)])
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


def astuple_row(row: Row) -> tuple[str, str, str, str]:
    """The row's four cells."""
    return row.metric, row.value, row.unit, row.note
