"""An answer's style, for style control (as LMArena's contextual Bradley-Terry does): its length,
the share of its lines that explain rather than compute (comments and prose), and its number of
code blocks. Pure."""

from __future__ import annotations

import re

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


def style_difference(a: dict[str, float], b: dict[str, float]) -> list[float]:
    """A's style against B's, feature by feature, as LMArena normalises it: ``(a - b) / (a + b)``
    (0 when both are 0 or a feature is missing)."""
    result = []
    for name in STYLE_FEATURES:
        x, y = a.get(name), b.get(name)
        result.append(0.0 if x is None or y is None or x + y == 0 else (x - y) / (x + y))
    return result
