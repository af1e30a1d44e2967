"""``validate_problem``: what counts as empty, what is removed, and what is kept as written."""

from __future__ import annotations

import pytest

from coderank.comparisons import validate_problem
from coderank.errors import InvalidProblemError


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "  \n\t ",
        "\u200b\u200b\u200b",  # zero-width spaces
        "\u2060\ufeff\u200d\u200c",  # word joiner, BOM, zero-width joiner and non-joiner
        " \u202e\u2066 \u2069\u202c ",  # bidirectional controls only
        "\u3164\u2800\u00a0",  # Hangul filler, braille blank, no-break space
        "\ufe0f\u034f",  # a variation selector and a combining grapheme joiner, alone
    ],
)
def test_a_problem_that_shows_nothing_is_empty(text: str | None) -> None:
    with pytest.raises(InvalidProblemError, match="the problem is empty"):
        validate_problem(text)


def test_bidirectional_controls_are_removed() -> None:
    text = "Write f\u202e)x(esrever\u202c and \u2066g\u2069 \u202a\u202b\u202d\u2067\u2068"
    assert validate_problem(text) == "Write f)x(esrever and g"


def test_format_characters_at_the_ends_are_stripped() -> None:
    assert validate_problem("\ufeff\u200b  Write f  \u200b\n") == "Write f"


@pytest.mark.parametrize(
    "text",
    [
        "Sort 👩\u200d💻 and 👨\u200d👩\u200d👧 by name",  # emoji ZWJ sequences
        "Count the ❤\ufe0f in a string",  # a variation selector after its emoji
        "Use the word cafe\u0301",  # a combining accent at the end
        "Translate می\u200cخواهم",  # a zero-width non-joiner inside Persian text
    ],
)
def test_ordinary_text_is_kept_as_written(text: str) -> None:
    assert validate_problem(text) == text


def test_the_limit_counts_what_is_left() -> None:
    assert validate_problem("\u202e" * 10 + "x" * 4000) == "x" * 4000
    with pytest.raises(InvalidProblemError, match="the limit is 4,000"):
        validate_problem("x" * 4001)
