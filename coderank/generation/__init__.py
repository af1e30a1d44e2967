"""Generating comparisons for an adapter: a bounded queue, a record of the generations not yet
ended (resumed after a restart or a crash), and what the adapter is told as it goes."""

from coderank.generation.flow import GenerationListener, Generations
from coderank.generation.pending import PendingGenerations
from coderank.generation.queue import GenerationPool
from coderank.models import GenerationRequest

__all__ = [
    "GenerationListener",
    "GenerationPool",
    "GenerationRequest",
    "Generations",
    "PendingGenerations",
]
