"""What the scheduled jobs do, as plain functions of what they need (no scheduler here)."""

from __future__ import annotations

import logging
from typing import Any

from coderank.comparisons import Comparisons
from coderank.errors import UnknownComparisonError, VotingClosedError
from coderank.models import CLOSED_BY_TIME

log = logging.getLogger(__name__)


def close_voting(comparisons: Comparisons, comparison_id: str) -> dict[str, Any] | None:
    """Close voting when its window ends. Returns the final state, or None when there was nothing
    to close (closed already by hand or quorum, or unknown)."""
    try:
        return comparisons.close(comparison_id, user=CLOSED_BY_TIME)
    except VotingClosedError:
        return None
    except UnknownComparisonError:
        log.warning("voting window ended for unknown comparison %s", comparison_id)
        return None
