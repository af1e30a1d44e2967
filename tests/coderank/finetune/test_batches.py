"""Micro-batches of pairs of about the same length: every pair once an epoch, less padding than a
random draw, another arrangement each epoch, and (slow) the real trainer drawing them, with
arguments that pickle as its checkpoints need."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from coderank.finetune.batches import GROUP, grouped_batches, padding_share
from coderank.finetune.trainer import length_grouped_sampler
from harness.settings import make_settings

# Lengths as the evaluation set's pairs have them: a problem's answers all about as long.
LENGTHS = [
    base + random.Random(i).randint(-8, 8)
    for i, base in enumerate(b for b in range(200, 1400, 40) for _ in range(20))
]


def random_batches(n: int, size: int, seed: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [order[i : i + size] for i in range(0, n, size)]


def test_every_pair_comes_once_an_epoch_in_batches_of_the_size_asked() -> None:
    lengths = LENGTHS[:597]
    batches = grouped_batches(lengths, batch_size=8, seed=0)
    assert sorted(i for b in batches for i in b) == list(range(597))
    assert sorted(len(b) for b in batches) == [5] + [8] * 74


def test_grouped_batches_pad_far_less_than_a_random_draw() -> None:
    grouped = padding_share(LENGTHS, grouped_batches(LENGTHS, batch_size=8, seed=0))
    drawn = padding_share(LENGTHS, random_batches(len(LENGTHS), 8, seed=0))
    assert drawn > 0.25 and grouped < drawn / 3, (grouped, drawn)
    assert padding_share([5, 5, 5, 5], [[0, 1], [2, 3]]) == 0.0
    assert padding_share([1, 3], [[0, 1]]) == pytest.approx(1 / 3)


def test_the_same_seed_gives_the_same_batches_and_another_seed_others() -> None:
    once = grouped_batches(LENGTHS, batch_size=8, seed=3)
    assert grouped_batches(LENGTHS, batch_size=8, seed=3) == once
    assert grouped_batches(LENGTHS, batch_size=8, seed=4) != once
    # A batch is drawn from one group of GROUP batches of a random order, not from a global sort:
    # its pairs are not always the same ones.
    firsts = {
        tuple(sorted(b)) for s in range(5) for b in grouped_batches(LENGTHS, batch_size=8, seed=s)
    }
    assert len(firsts) > 4 * len(once)
    assert GROUP > 1


@pytest.mark.slow
def test_the_trainer_draws_its_micro_batches_from_the_sampler(tmp_path: Path) -> None:
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import RankNetLoss

    from coderank.reranker.cross_encoder import load_reranker

    model = load_reranker(make_settings(tmp_path)).model
    n = len(LENGTHS)
    dataset = Dataset.from_dict(
        {"query": ["q"] * n, "docs": [["a", "b"]] * n, "labels": [[1, 0]] * n}
    )
    args = CrossEncoderTrainingArguments(
        output_dir=str(tmp_path / "scratch"),
        per_device_train_batch_size=8,
        seed=5,
        use_cpu=True,
        report_to="none",
        batch_sampler=length_grouped_sampler(LENGTHS),
    )
    trainer = CrossEncoderTrainer(
        model=model, args=args, train_dataset=dataset, loss=RankNetLoss(model)
    )
    sampler = trainer.get_train_dataloader().batch_sampler
    assert len(sampler) == -(-n // 8)
    first = list(sampler)
    assert first == grouped_batches(LENGTHS, batch_size=8, seed=5 * 1000)
    sampler.set_epoch(1)
    assert list(sampler) == grouped_batches(LENGTHS, batch_size=8, seed=5 * 1000 + 1) != first
    assert pickle.loads(pickle.dumps(args)).batch_sampler.keywords["lengths"] == tuple(LENGTHS)
    with pytest.raises(ValueError, match="600 lengths for a dataset of 2 pairs"):
        length_grouped_sampler(LENGTHS)(dataset.select([0, 1]), batch_size=8, drop_last=False)
