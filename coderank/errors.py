"""One error tree for the domain; vendor errors are wrapped with ``raise ... from``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coderank.models import Comparison


class CoderankError(Exception):
    """Base class of every error CodeRank raises on purpose."""


class ConfigError(CoderankError):
    """A setting is missing or has a value it cannot take."""


class InvalidProblemError(CoderankError):
    """The problem text is empty or too long."""


class InvalidVoteError(CoderankError):
    """A vote whose choice or shape is not one CodeRank accepts."""


class UnknownComparisonError(CoderankError):
    """No comparison with that id was ever started."""


class VotingClosedError(CoderankError):
    """The comparison exists but takes no more votes. ``comparison`` is the comparison when
    this very call closed it (a vote after its deadline)."""

    def __init__(self, message: str, *, comparison: Comparison | None = None) -> None:
        super().__init__(message)
        self.comparison = comparison


class NoPairError(CoderankError):
    """The comparison has no pair shown (it is still generating, or it failed), so it has no
    answer A or B and no reranker scores for them."""


class GenerationError(CoderankError):
    """Fewer than two agents produced an answer, so there is nothing to compare."""


class ModelError(CoderankError):
    """A model (chat model or reranker) could not be loaded or run."""


class ModelUnavailableError(ModelError):
    """The embedded model's process cannot start (a bad GGUF, a runtime that crashes)."""


class PackagedModelError(ModelUnavailableError):
    """A packaged GGUF cannot be assembled: one of its packages is not installed, is another
    version, or does not hold the pinned bytes (or the cache folder cannot take the file)."""


class ModelCrashedError(ModelError):
    """The embedded model's process died during a generation (it is started again)."""


class EvaluationError(CoderankError, ValueError):
    """An evaluation or digest was asked for with arguments it cannot take (a naive datetime, no
    weeks). Also a ``ValueError``: these are bad arguments."""


class CoordinationError(CoderankError):
    """The database the replicas share (``DATABASE_URL``) could not be reached or refused."""


class CheckpointMovedError(CoordinationError):
    """A resume raced another: the thread moved on from the checkpoint it started from. The
    resume is refused (never forked) and can be retried from the newest checkpoint."""


class StoreError(CoderankError):
    """The store could not read or write a document."""


class FineTuneError(CoderankError):
    """Preference pairs cannot be read or are too few, or a fine-tune cannot write its output."""


class FineTuneInputError(FineTuneError, ValueError):
    """A preference-pair record or a fine-tune option that is not valid. Also a ``ValueError``:
    these are bad arguments."""
