"""The active pair policy's reading of the store: what each agent pair's closed comparisons say
so far, kept up to date by reading only the comparisons closed since the last read."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from coderank.graph.active import AgentPair, PairRecord, outcome_of, pair_records
from coderank.models import CLOSED
from coderank.store import COMPARISONS, Store

# Comparisons closed up to this long before the latest one seen are read again, so one closed by
# a replica whose clock runs a little behind is not missed (re-reads replace, never add).
OVERLAP = timedelta(minutes=10)


class KnownPairs:
    """Per agent pair, the decisive outcomes of the closed comparisons in ``store``.

    The first read scans the closed comparisons once (on the indexed ``status``); later reads ask
    only for those closed since (the indexed ``closed_at``), never a checkpoint. A stale or
    partial reading only makes the choice less informed: the probability recorded with the pair
    is computed from the same reading, so the 1/p reweighting stays exact.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._outcomes: dict[str, tuple[AgentPair, bool] | None] = {}
        self._latest: str | None = None

    def read(self) -> dict[AgentPair, PairRecord]:
        """The per agent pair records, after reading what closed since the last call."""
        with self._lock:
            query: dict[str, object] = {"status": CLOSED}
            if self._latest is not None:
                query["closed_at"] = {"$gte": _before(self._latest, OVERLAP)}
            for doc in self._store.find(COMPARISONS, query):
                self._outcomes[str(doc["comparison_id"])] = outcome_of(doc)
                closed_at = str(doc.get("closed_at") or "")
                if closed_at > (self._latest or ""):
                    self._latest = closed_at
            return pair_records(o for o in self._outcomes.values() if o is not None)


def _before(moment: str, delta: timedelta) -> str:
    """``moment`` (ISO 8601) moved back by ``delta``, as the nodes write timestamps."""
    try:
        earlier = datetime.fromisoformat(moment) - delta
    except ValueError:
        return moment
    return earlier.isoformat(timespec="milliseconds")
