"""What grants access, in one list: the shapes of secrets scrubbed from the log, from exports and
from every error text shown to people, and the :class:`Redactor` that scrubs them (pure).

The shapes: Slack tokens (bot, user, app-level, refresh, legacy workspace; a hyphen may be
percent-encoded, as in a URL or a form body) and incoming-webhook URLs, then common API keys:
Hugging Face, OpenAI / Anthropic (``sk-``, ``sk-proj-``, ``sk-ant-``), GitHub, GitLab, AWS,
Google, and Astra application tokens. Slack's prefixes are scrubbed with whatever follows them
(as the log always did); the generic ones need 16-35 characters after them, so identifiers such
as ``hf_hub`` or ``sk-learn`` stay. The password of any URL's
``user:password@`` is scrubbed too, and so is every configured secret given to a
:class:`Redactor` (a token of any shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "***"
# Secrets this short would scrub ordinary words: they are scrubbed only where they sit in a
# URL's user:password@ (the pattern below), never as bare strings.
MIN_SECRET_CHARS = 4
# Error text shown to people (a Slack message, the page, the command line) is cut to this, in
# its middle: its start says what failed, its end often what to fix.
MAX_SHOWN_ERROR = 500

_HYPHEN = r"(?:-|%2[dD])"
SECRET_SHAPES = re.compile(
    rf"""
      (?<![A-Za-z0-9])(?:xoxe\.)?xox[abeoprs]{_HYPHEN}[A-Za-z0-9%-]+
    | (?<![A-Za-z0-9])xapp{_HYPHEN}[A-Za-z0-9%-]+
    | https://hooks\.slack\.com/services/[A-Za-z0-9/_%-]+
    | (?<![A-Za-z0-9])hf_[A-Za-z0-9]{{16,}}
    | (?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{{20,}}
    | (?<![A-Za-z0-9])(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{{20,}}
    | (?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{{20,}}
    | (?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{{16}}(?![A-Za-z0-9])
    | (?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{{35}}
    | AstraCS(?::|%3[aA])[A-Za-z0-9:%_-]+
    """,
    re.VERBOSE,
)
URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@")
# Line breaks and every other control character (C0, DEL, C1) and the Unicode line separators:
# in shown text they would forge a log line or a line of the command line's output.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class Redactor:
    """Replaces the given secrets and every secret-shaped string with ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = sorted(
            {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )
        self._known = re.compile("|".join(re.escape(s) for s in known)) if known else None

    def scrub(self, text: str) -> str:
        text = URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}@", text)
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        return SECRET_SHAPES.sub(REDACTED, text)

    def scrub_value(self, value: Any) -> Any:
        """``value`` with its strings scrubbed (numbers and None as they are; any other object
        becomes its scrubbed ``str``)."""
        if isinstance(value, str):
            return self.scrub(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {self.scrub(str(k)): self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.scrub_value(v) for v in value]
        return self.scrub(str(value))

    def shown(self, text: str) -> str:
        """Error text from outside (a model endpoint, an exception) as it may be shown to
        people: scrubbed, on one line, at most ``MAX_SHOWN_ERROR`` characters. Escaping it for
        where it is shown (Slack's ``<!channel>``, Markdown) is the adapter's."""
        line = " ".join(one_line(self.scrub(text)).split())
        if len(line) <= MAX_SHOWN_ERROR:
            return line
        half = (MAX_SHOWN_ERROR - 1) // 2
        return line[:half] + "…" + line[-half:]


def one_line(text: str) -> str:
    """``text`` with each run of control characters (line breaks included) as one space."""
    return _CONTROLS.sub(" ", text)
