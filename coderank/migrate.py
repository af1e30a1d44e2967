"""Bring a store written by the previous version up to date: one ``comparisons`` document per
comparison, made from its LangGraph checkpoint. Idempotent: running it again rewrites the same
documents with the same content."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from coderank.comparisons import Comparisons
from coderank.errors import UnknownComparisonError
from coderank.store import COMPARISONS, FEEDBACK, RESPONSES, Store

log = logging.getLogger(__name__)


@dataclass
class MigrationCount:
    """What a migration found and wrote."""

    comparisons: int = 0  # comparisons found in the store (by their responses)
    written: int = 0
    no_checkpoint: int = 0  # responses whose comparison has no checkpoint: left as they are
    by_status: Counter[str] = field(default_factory=Counter)
    votes: int = 0  # votes in the written comparisons
    feedback: int = 0  # feedback documents of those comparisons

    @property
    def matches(self) -> bool:
        """Every comparison was written, and their votes are exactly the stored feedback."""
        return self.written + self.no_checkpoint == self.comparisons and self.votes == self.feedback

    def summary(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.by_status.items())) or "none"
        return (
            f"comparisons: {self.comparisons} found, {self.written} written ({statuses}); "
            f"votes {self.votes}, feedback documents {self.feedback}"
            + (f"; {self.no_checkpoint} without a checkpoint" if self.no_checkpoint else "")
            + (" (match)" if self.matches else " (DIFFER)")
        )


def needs_migration(store: Store) -> bool:
    """A store of the previous version: responses, but no comparisons."""
    return store.count(COMPARISONS) == 0 and store.count(RESPONSES) > 0


def migrate(
    store: Store, comparisons: Comparisons, *, on_progress: Callable[[int], None] | None = None
) -> MigrationCount:
    """Write a ``comparisons`` document for every comparison that has responses in ``store``,
    from its checkpoint. ``on_progress(n)`` is called after each batch of ``n``."""
    ids = list(dict.fromkeys(str(d["comparison_id"]) for d in store.find(RESPONSES)))
    count = MigrationCount(comparisons=len(ids))
    for cid in ids:
        try:
            comparison = comparisons.get(cid)
        except UnknownComparisonError:
            log.warning("comparison %s has responses but no checkpoint: left as it is", cid)
            count.no_checkpoint += 1
        else:
            store.upsert(COMPARISONS, comparison.to_document())
            count.written += 1
            count.by_status[comparison.status] += 1
            count.votes += comparison.voters
            count.feedback += store.count(FEEDBACK, {"comparison_id": cid})
        if on_progress is not None:
            on_progress(1)
    return count
