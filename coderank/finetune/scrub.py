"""Scrubbing what identifies people or grants access from exported text: tokens and API keys
(every shape the log scrubs: :data:`coderank.redaction.SECRET_SHAPES`), e-mail addresses and
Slack user ids (pure).

Problems and answers come from Slack, where people paste their code with its keys and mention
colleagues; an export is a file that leaves the workspace. Each find is replaced by a bracketed
placeholder (``[token]``, ``[email]``, ``[user]``), so the text keeps its shape for training.
"""

from __future__ import annotations

import re
from collections import Counter

from coderank.redaction import SECRET_SHAPES, URL_PASSWORD

TOKEN, EMAIL, USER = "token", "email", "user"

_EMAILS = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# A mention (<@U0123ABCD> or <@U0123ABCD|name>), then a bare id: U or W and 8 to 10 capitals or
# digits, at least one a digit (so words such as UNDEFINED stay), not inside a longer run of
# letters and digits (so ``user_U0123ABCD`` holds one, ``XU0123ABCD`` none).
_MENTIONS = re.compile(r"<@[UW][A-Z0-9]{6,}(?:\|[^>]*)?>")
_USER_IDS = re.compile(r"(?<![A-Za-z0-9])[UW](?=[A-Z]*[0-9])[A-Z0-9]{8,10}(?![A-Za-z0-9])")

_RULES = (
    (TOKEN, SECRET_SHAPES),
    (EMAIL, _EMAILS),
    (USER, _MENTIONS),
    (USER, _USER_IDS),
)


def scrub(text: str, found: Counter[str] | None = None) -> str:
    """``text`` with its tokens (URL passwords too), e-mail addresses and Slack user ids
    replaced by ``[token]``, ``[email]`` and ``[user]``; each replacement is counted in ``found``
    (by kind)."""
    text, n = URL_PASSWORD.subn(lambda m: f"{m['head']}[{TOKEN}]@", text)
    if found is not None and n:
        found[TOKEN] += n
    for kind, pattern in _RULES:
        text, n = pattern.subn(f"[{kind}]", text)
        if found is not None and n:
            found[kind] += n
    return text


_NAMES = {
    TOKEN: ("token", "tokens"),
    EMAIL: ("e-mail address", "e-mail addresses"),
    USER: ("Slack user id", "Slack user ids"),
}


def describe(found: Counter[str]) -> str:
    """What was scrubbed, in words: ``"2 tokens, 1 e-mail address"`` ("" for nothing)."""
    return ", ".join(
        f"{found[kind]} {_NAMES[kind][found[kind] != 1]}" for kind in _NAMES if found[kind]
    )
