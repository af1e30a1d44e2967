"""Cold start: preference pairs decided by execution, before anyone has voted.

Every comparison whose answers ran in the sandbox gives one pair for each two of its answers that
execution decides as a gold comparison does (one passed every check, the other crashed or failed
at least half; see :func:`coderank.models.gold_pick`). All three answers count, not only the two
shown: nobody has to have voted.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from coderank.finetune.dataset import PreferencePair
from coderank.finetune.export import ExportCount
from coderank.models import gold_pick
from coderank.store import EXECUTIONS, RESPONSES, Store, doc_id


def execution_pairs(store: Store) -> tuple[list[PreferencePair], ExportCount]:
    """The execution-decided pairs of every comparison in ``store``, and what was left out."""
    ran: dict[str, dict[str, float]] = defaultdict(dict)
    for doc in store.find(EXECUTIONS):
        ran[str(doc["comparison_id"])][str(doc["agent"])] = float(doc["score"])
    count = ExportCount()
    pairs = []
    for cid, scores in sorted(ran.items()):
        for first, second in itertools.combinations(sorted(scores), 2):
            pick = gold_pick(scores[first], scores[second])
            if pick is None:
                count.skipped["not decided by execution"] += 1
                continue
            winner, loser = (first, second) if pick == "A" else (second, first)
            chosen = store.get(RESPONSES, doc_id(cid, winner))
            rejected = store.get(RESPONSES, doc_id(cid, loser))
            if chosen is None or rejected is None:
                count.skipped["answer missing"] += 1
                continue
            count.exported += 1
            pairs.append(
                PreferencePair(
                    comparison_id=cid,
                    query=str(chosen["problem"]),
                    chosen=str(chosen["text"]),
                    rejected=str(rejected["text"]),
                    chosen_agent=winner,
                    rejected_agent=loser,
                    votes={},
                    created_at=str(chosen.get("created_at") or ""),
                )
            )
    return pairs, count
