"""An answer's style, for style control (as LMArena's contextual Bradley-Terry does): its length,
the share of its lines that explain rather than compute (comments and prose), and its number of
code blocks. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

STYLE_FEATURES = ("length", "explanation_share", "code_blocks")
_FENCE = re.compile(r"^[ \t]*```")


def style_of(text: str) -> dict[str, float]:
    """The style features of one answer's text."""
    lines = [line for line in text.splitlines() if line.strip()]
    fences = sum(1 for line in lines if _FENCE.match(line))
    inside, explaining, counted = False, 0, 0
    for line in lines:
        if _FENCE.match(line):
            inside = not inside
            continue
        counted += 1
        explaining += (not inside) or line.lstrip().startswith("#")
    return {
        "length": float(len(text)),
        "explanation_share": explaining / counted if counted else 0.0,
        "code_blocks": float((fences + 1) // 2),
    }


def style_difference(a: Mapping[str, float], b: Mapping[str, float]) -> list[float]:
    """A's style against B's, feature by feature, as LMArena normalises it: ``(a - b) / (a + b)``
    (0 when both are 0 or a feature is missing)."""
    return [float(d) for d in style_differences([a], [b])[0]]


def style_differences(
    a: Sequence[Mapping[str, float]], b: Sequence[Mapping[str, float]]
) -> np.ndarray:
    """:func:`style_difference` of each A's style against its B's at once, one row each."""

    def features(styles: Sequence[Mapping[str, float]]) -> np.ndarray:
        missing = float("nan")
        return np.column_stack(
            [
                np.fromiter((s.get(name, missing) for s in styles), float, len(styles))
                for name in STYLE_FEATURES
            ]
        )

    x, y = features(a), features(b)
    total = x + y
    known = ~np.isnan(total) & (total != 0)
    differences: np.ndarray = np.divide(x - y, total, out=np.zeros_like(total), where=known)
    return differences
