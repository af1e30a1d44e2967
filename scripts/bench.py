"""``python scripts/bench.py``: print CodeRank's benchmark table (see docs/benchmarks.md)."""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from harness.bench.main import main

    sys.exit(main())
