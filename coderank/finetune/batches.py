"""Micro-batches of pairs of about the same length, so a pass pads little.

The trainer pads every (problem, answer) input of a micro-batch to its longest one. Drawn at random,
about 29% of the tokens the model read on the evaluation set's 600 training pairs were padding
(docs/benchmarks.md). ``grouped_batches`` draws a random order as before, cuts it into groups of
``GROUP`` micro-batches, sorts each group by length, cuts it into micro-batches and shuffles their
order: each micro-batch is still drawn from a random group of ``GROUP`` x its size of the epoch's
pairs, and every pair comes once an epoch.

Pure: ``coderank.finetune.trainer.length_grouped_sampler`` hands these batches to the trainer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from coderank.finetune.dataset import PreferencePair

# Micro-batches per group sorted by length: the larger, the less padding and the more alike a
# micro-batch's pairs (a problem's subtle bugs have its reference's length).
GROUP = 8


def pair_length(pair: PreferencePair) -> int:
    """What a pair's longer input costs, in characters (a tokenizer's count follows it)."""
    return len(pair.query) + max(len(pair.chosen), len(pair.rejected))


def grouped_batches(
    lengths: Sequence[int], *, batch_size: int, seed: int, group: int = GROUP
) -> list[list[int]]:
    """Every index of ``lengths`` once, in batches of ``batch_size`` (the last may be short) whose
    items have about the same length. Pure: the same ``seed`` gives the same batches."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = batch_size * max(group, 1)
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def padding_share(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """The share of what the model reads that is padding, when each batch is padded to its
    longest item."""
    read = sum(len(b) * max(lengths[i] for i in b) for b in batches if b)
    return 1 - sum(lengths) / read if read else 0.0
