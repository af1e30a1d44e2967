"""Who may see and do what on the dashboard: the password, the voter id, the admins. Pure."""

from __future__ import annotations

import hmac
import re

from coderank.errors import InvalidVoteError

# A voter id as typed: a Slack user id (U0123ABCD) votes as the same person on both surfaces.
_VOTER = re.compile(r"[\w.@:+-]{1,64}")


def password_ok(given: str, expected: str) -> bool:
    """Whether ``given`` is the password (compared in constant time)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def voter_id(text: str) -> str:
    """The voter id of what was typed.

    Raises:
        InvalidVoteError: it is empty, too long, or has spaces or other characters.
    """
    voter = text.strip()
    if not _VOTER.fullmatch(voter):
        raise InvalidVoteError(
            "a voter id is 1 to 64 letters, digits or . _ - @ : + (no spaces), "
            "e.g. alice or your Slack user id"
        )
    return voter


def may_close(voter: str, *, requester: str, admins: frozenset[str]) -> bool:
    """The requester or an admin closes voting, as in Slack."""
    return voter == requester or voter in admins
