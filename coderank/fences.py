"""Code in a model's answer: fenced Markdown blocks, read as the agents and the Tester write
them. Pure."""

from __future__ import annotations

import re

# A fence opens at the start of a line; a block runs to a closing fence or the end of the text.
_FENCE = re.compile(
    r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.DOTALL | re.M
)


def extract_code(text: str) -> str:
    """The first ```python block of ``text`` (else the first fenced block; else empty).

    An unclosed fence (a cut-off generation) runs to the end of the text.
    """
    blocks: list[tuple[str, str]] = [
        (lang.lower(), body.strip("\n")) for lang, body in _FENCE.findall(text)
    ]
    for lang, body in blocks:
        if lang in ("python", "py", "python3") and body.strip():
            return body
    for _, body in blocks:
        if body.strip():
            return body
    return ""
