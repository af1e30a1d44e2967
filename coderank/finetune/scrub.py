"""Scrubbing what identifies people or grants access from exported text: tokens and API keys,
e-mail addresses and Slack user ids (pure).

Problems and answers come from Slack, where people paste their code with its keys and mention
colleagues; an export is a file that leaves the workspace. Each find is replaced by a bracketed
placeholder (``[token]``, ``[email]``, ``[user]``), so the text keeps its shape for training.
"""

from __future__ import annotations

import re
from collections import Counter

TOKEN, EMAIL, USER = "token", "email", "user"

# Slack tokens (bot, user, app-level, refresh, legacy workspace), then common API key prefixes:
# Hugging Face, OpenAI / Anthropic (sk-, sk-proj-, sk-ant-), GitHub, GitLab, AWS, Google. The
# generic prefixes need 20+ characters after them, so identifiers such as ``hf_hub`` stay.
_TOKENS = re.compile(
    r"""
      \b(?:xoxe\.)?xox[abeoprs]-[A-Za-z0-9-]{10,}
    | \bxapp-[A-Za-z0-9-]{10,}
    | https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+
    | \bhf_[A-Za-z0-9]{20,}
    | \bsk-[A-Za-z0-9_-]{20,}
    | \b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}
    | \bglpat-[A-Za-z0-9_-]{20,}
    | \b(?:AKIA|ASIA)[0-9A-Z]{16}\b
    | \bAIza[0-9A-Za-z_-]{35}
    """,
    re.VERBOSE,
)
_EMAILS = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# A mention (<@U0123ABCD> or <@U0123ABCD|name>), then a bare id: U or W and 8 to 10 capitals or
# digits, at least one a digit (so words such as UNDEFINED stay).
_MENTIONS = re.compile(r"<@[UW][A-Z0-9]{6,}(?:\|[^>]*)?>")
_USER_IDS = re.compile(r"\b[UW](?=[A-Z]*[0-9])[A-Z0-9]{8,10}\b")

_RULES = (
    (TOKEN, _TOKENS),
    (EMAIL, _EMAILS),
    (USER, _MENTIONS),
    (USER, _USER_IDS),
)


def scrub(text: str, found: Counter[str] | None = None) -> str:
    """``text`` with its tokens, e-mail addresses and Slack user ids replaced by ``[token]``,
    ``[email]`` and ``[user]``; each replacement is counted in ``found`` (by kind)."""
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
