"""A problem as CodeRank takes it: visible text, at most ``MAX_PROBLEM_CHARS`` characters."""

from __future__ import annotations

import unicodedata

from coderank.config import MAX_PROBLEM_CHARS
from coderank.errors import InvalidProblemError

# Bidirectional embeddings, overrides and isolates make text read otherwise than it is ("Trojan
# Source"); nothing in a Python problem needs them.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Control and format characters (zero-width spaces, joiners, BOM), separators, and marks that
# only modify the character before them (variation selectors, combining marks) show nothing alone.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Zs", "Zl", "Zp"})
# Letters and symbols that render as blanks.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(ch: str) -> bool:
    return ch in _BLANKS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def _is_edge_padding(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def validate_problem(text: str | None) -> str:
    """The problem without bidirectional controls, and stripped of whitespace and format
    characters at both ends (joiners inside, as in emoji sequences, are kept).

    Raises:
        InvalidProblemError: if nothing of it is visible, or it is longer than
            ``MAX_PROBLEM_CHARS``.
    """
    problem = (text or "").translate(_BIDI_CONTROLS)
    start, end = 0, len(problem)
    while start < end and _is_edge_padding(problem[start]):
        start += 1
    while end > start and _is_edge_padding(problem[end - 1]):
        end -= 1
    problem = problem[start:end]
    if all(_shows_nothing(ch) for ch in problem):
        raise InvalidProblemError("the problem is empty: describe a Python task to solve")
    if len(problem) > MAX_PROBLEM_CHARS:
        raise InvalidProblemError(
            f"the problem is {len(problem):,} characters long; the limit is {MAX_PROBLEM_CHARS:,}"
        )
    return problem
