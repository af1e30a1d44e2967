"""Code in a model's answer: fenced Markdown blocks, read as the agents and the Tester write
them. Pure."""

from __future__ import annotations

import ast
import re

# A fence opens at the start of a line; a block runs to a closing fence or the end of the text.
_FENCE = re.compile(
    r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(^[ \t]*```|\Z)", re.DOTALL | re.M
)


def extract_code(text: str) -> str:
    """The first ```python block of ``text`` (else the first fenced block; else empty).

    An unclosed fence (a generation cut off at its token limit) runs to the end of the text, less
    the unfinished statement it was cut in: its longest run of first lines that parses (a cut-off
    example call after a finished function leaves the function).
    """
    blocks: list[tuple[str, str]] = [
        (lang.lower(), body.strip("\n") if closed else _finished(body.strip("\n")))
        for lang, body, closed in _FENCE.findall(text)
    ]
    for lang, body in blocks:
        if lang in ("python", "py", "python3") and body.strip():
            return body
    for _, body in blocks:
        if body.strip():
            return body
    return ""


def _finished(code: str) -> str:
    """``code`` if it parses, else its longest run of first lines that does (else ``code``)."""
    lines = code.splitlines()
    for end in range(len(lines), 0, -1):
        try:
            ast.parse("\n".join(lines[:end]))  # parsing runs nothing
        except (SyntaxError, ValueError):
            continue
        return "\n".join(lines[:end])
    return code
