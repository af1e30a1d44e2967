"""What the scheduled jobs do, as plain functions of what they need (no scheduler here)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from coderank.comparisons import Comparisons
from coderank.errors import UnknownComparisonError, VotingClosedError
from coderank.models import BY_DEADLINE, CLOSED_BY_TIME, Comparison

log = logging.getLogger(__name__)

Closed = Callable[[Comparison], None]


def close_due(comparisons: Comparisons, on_closed: Closed) -> int:
    """Close the comparisons past their voting deadline and hand each to ``on_closed`` (the
    adapter shows its results). Returns how many were closed."""
    closed = comparisons.close_due()
    for comparison in closed:
        on_closed(comparison)
    return len(closed)


def close_voting(comparisons: Comparisons, comparison_id: str, on_closed: Closed) -> None:
    """A deadline job of the previous version: close ``comparison_id`` now if it is still open."""
    try:
        comparison = comparisons.close(comparison_id, user=CLOSED_BY_TIME, how=BY_DEADLINE)
    except VotingClosedError:
        return
    except UnknownComparisonError:
        log.warning("voting window ended for unknown comparison %s", comparison_id)
        return
    on_closed(comparison)
