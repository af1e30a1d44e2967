"""What processes of CodeRank share, whatever holds it: SQLite files and file locks on one
machine, or PostgreSQL across machines (:mod:`coderank.coordination.postgres`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from coderank.models import GenerationRequest


@dataclass(frozen=True)
class Holder:
    """Who holds a single-flight slot (a fine-tune), and since when."""

    by: str
    since: str  # ISO 8601


class Claims(Protocol):
    """Adapter requests already handled (Slack retries, double clicks): the first claim of a key
    wins; a handler that fails releases its claim so a retry can run."""

    def claim(self, key: str) -> bool: ...

    def release(self, key: str) -> None: ...

    def close(self) -> None: ...


class Locks(Protocol):
    """One lock per comparison: resumes of one thread are serialised."""

    def hold(self, key: str) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


class Pending(Protocol):
    """Generations asked for and not yet ended."""

    def add(self, request: GenerationRequest, *, at: float | None = None) -> None: ...

    def finish(self, comparison_id: str) -> None: ...

    def all(self) -> list[GenerationRequest]:
        """At start-up: the generations to resume (this process's own, or orphaned)."""
        ...

    def renew(self) -> int:
        """Keep this process's claim on its generations; returns how many it holds."""
        ...

    def orphans(self) -> list[GenerationRequest]:
        """While running: the generations of processes that died, now this one's."""
        ...

    def close(self) -> None: ...


class Gate(Protocol):
    """One run at a time (a fine-tune): ``try_enter`` returns None when the caller may start,
    else who is running one."""

    def try_enter(self, *, by: str, now: str) -> Holder | None: ...

    def leave(self) -> None: ...
