"""The active pair policy's reading of the store: what each agent pair's closed comparisons say
so far, kept up to date by reading only the comparisons closed since the last read, with the
votes of flagged voters left out under ``FLAGGED_VOTERS=exclude`` as in every other figure."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from coderank.graph.active import AgentPair, PairRecord, outcome_of, pair_records
from coderank.models import CLOSED
from coderank.store import COMPARISONS, Document, Store

# Comparisons closed up to this long before the latest one seen are read again, so one closed by
# a replica whose clock runs a little behind is not missed (re-reads replace, never add).
OVERLAP = timedelta(minutes=10)

# What is kept of each closed comparison: enough for its outcome and for the voter tests.
KEPT = ("comparison_id", "status", "pair", "scores", "votes")


class KnownPairs:
    """Per agent pair, the decisive outcomes of the closed comparisons in ``store``.

    The first read scans the closed comparisons once (on the indexed ``status``); later reads ask
    only for those closed since (the indexed ``closed_at``), never a checkpoint. Under
    ``flagged_voters="exclude"`` the voters the anomalous-voter tests flag (on every closed
    comparison read so far) are left out, so a flagged voter's votes count here no more than in
    the report. A stale or partial reading only makes the choice less informed: the probability
    recorded with the pair is computed from the same reading, so the 1/p reweighting stays exact.
    """

    def __init__(self, store: Store, *, flagged_voters: str = "keep") -> None:
        self._store = store
        self._exclude = flagged_voters == "exclude"
        self._lock = threading.Lock()
        self._closed: dict[str, dict[str, Any]] = {}
        self._records: dict[AgentPair, PairRecord] = {}
        self._latest: str | None = None

    def read(self) -> dict[AgentPair, PairRecord]:
        """The per agent pair records, after reading what closed since the last call."""
        with self._lock:
            query: dict[str, object] = {"status": CLOSED}
            if self._latest is not None:
                query["closed_at"] = {"$gte": _before(self._latest, OVERLAP)}
            changed = False
            for doc in self._store.find(COMPARISONS, query):
                kept = {key: doc.get(key) for key in KEPT}
                cid = str(doc["comparison_id"])
                changed = changed or self._closed.get(cid) != kept
                self._closed[cid] = kept
                closed_at = str(doc.get("closed_at") or "")
                if closed_at > (self._latest or ""):
                    self._latest = closed_at
            if changed:
                self._records = self._count()
            return dict(self._records)

    def _count(self) -> dict[AgentPair, PairRecord]:
        docs: list[Document] = list(self._closed.values())
        if self._exclude:
            # Here, not at the top: the voter tests load scipy, which only this policy needs.
            from coderank.evaluation.report import flagged_voters, without_voters

            docs = list(without_voters(docs, flagged_voters(docs)))
        outcomes = (outcome_of(doc) for doc in docs)
        return pair_records(o for o in outcomes if o is not None)


def _before(moment: str, delta: timedelta) -> str:
    """``moment`` (ISO 8601) moved back by ``delta``, as the nodes write timestamps."""
    try:
        earlier = datetime.fromisoformat(moment) - delta
    except ValueError:
        return moment
    return earlier.isoformat(timespec="milliseconds")
