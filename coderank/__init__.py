"""CodeRank: team pairwise feedback on AI-written Python code."""

from __future__ import annotations

__version__ = "0.1.0"
