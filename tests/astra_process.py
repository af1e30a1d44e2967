"""Run as ``python -m tests.astra_process ENDPOINT TOKEN`` to start an Astra store in a process of
its own, as a bot replica does: it prints ``ready`` once imported, waits for a line on stdin (so
several can be let go at once), then opens the store (creating the collections it finds missing)
and upserts one vote. Exits 0, or with a traceback on stderr."""

from __future__ import annotations

import sys

from coderank.store import FEEDBACK
from coderank.store.astra import AstraStore


def main(argv: list[str]) -> None:
    endpoint, token = argv
    print("ready", flush=True)
    sys.stdin.readline()
    store = AstraStore(endpoint, token, retry_budget_s=10)
    store.upsert(FEEDBACK, {"_id": "c:u", "comparison_id": "c"})


if __name__ == "__main__":
    main(sys.argv[1:])
