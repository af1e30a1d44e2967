"""Reading, validating and splitting exported preference pairs (pure, no model)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from coderank.errors import FineTuneError
from coderank.finetune.dataset import (
    MIN_PAIRS,
    PreferencePair,
    check_enough,
    other_problem_pairs,
    problem_key,
    read_pairs,
    split_by_problem,
    split_validation,
)
from harness.finetune_data import synthetic_pairs, write_jsonl


def lines(path: Path, *records: object) -> Path:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records))
    return path


def record(**changes: object) -> dict[str, object]:
    return {**synthetic_pairs(1)[0].to_json(), **changes}


def test_an_export_reads_back_as_the_pairs_written(tmp_path: Path) -> None:
    pairs = synthetic_pairs(12, seed=3, per_problem=2)
    path = write_jsonl(pairs, tmp_path / "pairs.jsonl")
    assert read_pairs(path) == pairs
    assert isinstance(read_pairs(path)[0], PreferencePair)


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = lines(tmp_path / "p.jsonl", "\n", record(), "   \n", record(comparison_id="c2"), "\n")
    assert [p.comparison_id for p in read_pairs(path)] == ["synthetic-0-0-0", "c2"]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FineTuneError, match=r"nope\.jsonl: no such file"):
        read_pairs(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json\n", r"line 2: not JSON \(Expecting property name"),
        ('["a list"]\n', r"line 2: expected a JSON object, got list"),
        (
            {k: v for k, v in record().items() if k != "rejected"},
            r"line 2: missing field 'rejected'",
        ),
        (record(chosen="   "), r"line 2: field 'chosen' is empty"),
        (record(query=""), r"line 2: field 'query' is empty"),
        (record(chosen_agent=3), r"line 2: field 'chosen_agent' is not a string"),
        (record(votes={"A": "two"}), r"line 2: field 'votes' is not an object of vote counts"),
    ],
)
def test_a_malformed_line_is_named_with_what_is_wrong(
    tmp_path: Path, bad: object, message: str
) -> None:
    path = lines(tmp_path / "p.jsonl", record(), bad, record())
    with pytest.raises(FineTuneError, match=message) as info:
        read_pairs(path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(str(path))


def test_the_split_keeps_each_problem_on_one_side() -> None:
    pairs = synthetic_pairs(30, per_problem=3)
    train, held = split_by_problem(pairs, held_out=0.2, seed=1)
    train_problems = {problem_key(p.query) for p in train}
    held_problems = {problem_key(p.query) for p in held}
    assert not train_problems & held_problems
    assert len(held_problems) == 6 and len(train_problems) == 24
    assert len(train) + len(held) == len(pairs)
    assert [p for p in pairs if p in train] == train  # input order kept


def test_the_split_ignores_whitespace_differences_in_a_problem() -> None:
    pairs = synthetic_pairs(10)
    spaced = [replace(p, query=f"  {p.query.replace(' ', '   ')}\n") for p in pairs]
    train, held = split_by_problem([*pairs, *spaced], seed=0)
    assert not {problem_key(p.query) for p in train} & {problem_key(p.query) for p in held}


def test_the_split_is_deterministic_and_independent_of_order() -> None:
    pairs = synthetic_pairs(25, per_problem=2)
    shuffled = list(pairs)
    random.Random(5).shuffle(shuffled)
    first = split_by_problem(pairs, seed=4)
    assert split_by_problem(pairs, seed=4) == first
    assert {p.comparison_id for p in split_by_problem(shuffled, seed=4)[1]} == {
        p.comparison_id for p in first[1]
    }
    assert split_by_problem(pairs, seed=5)[1] != first[1]


@pytest.mark.parametrize(("n", "held"), [(0, 0), (1, 0), (2, 1), (3, 1), (10, 2), (100, 20)])
def test_each_side_gets_a_problem_once_there_are_two(n: int, held: int) -> None:
    train, test = split_by_problem(synthetic_pairs(n), held_out=0.2)
    assert len({p.query for p in test}) == held
    assert len({p.query for p in train}) == n - held


def test_an_impossible_held_out_share_is_refused() -> None:
    with pytest.raises(ValueError, match="held_out"):
        split_by_problem(synthetic_pairs(3), held_out=1.0)


def test_too_few_pairs_are_refused_with_the_numbers() -> None:
    train, held = split_by_problem(synthetic_pairs(MIN_PAIRS - 1))
    with pytest.raises(FineTuneError, match=rf"too few pairs: {MIN_PAIRS - 1}, need at least 20"):
        check_enough(train, held)
    check_enough(*split_by_problem(synthetic_pairs(MIN_PAIRS)))


def test_pairs_on_a_single_problem_are_too_few() -> None:
    train, held = split_by_problem(synthetic_pairs(1, per_problem=25))
    assert held == []
    with pytest.raises(FineTuneError, match=r"too few pairs: 25 pairs on 1 problem.*need at least"):
        check_enough(train, held)


def minimal(pair: PreferencePair, *, key: str = "query", **extra: object) -> dict[str, object]:
    """The pair as another tool writes it: the problem and the two answers only."""
    return {key: pair.query, "chosen": pair.chosen, "rejected": pair.rejected, **extra}


def test_minimal_lines_read_with_query_or_prompt(tmp_path: Path) -> None:
    a, b = synthetic_pairs(2)
    path = lines(tmp_path / "p.jsonl", minimal(a), minimal(b, key="prompt"))
    read = read_pairs(path)
    assert [(p.query, p.chosen, p.rejected) for p in read] == [
        (a.query, a.chosen, a.rejected),
        (b.query, b.chosen, b.rejected),
    ]
    assert [p.problem for p in read] == [problem_key(a.query), problem_key(b.query)]
    assert read[0].votes == {} and read[0].comparison_id == ""


def test_a_problem_id_decides_the_split_by_problem() -> None:
    # Twenty texts, four problems: every text of a problem lands on the same side.
    pairs = [replace(p, problem_id=f"p{i % 4}") for i, p in enumerate(synthetic_pairs(20, seed=2))]
    train, held = split_by_problem(pairs, seed=0)
    assert len({p.problem_id for p in held}) == 1
    assert len(train) == 15 and len(held) == 5
    assert not {p.problem_id for p in train} & {p.problem_id for p in held}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"chosen": "x", "rejected": "y"}, r"line 2: missing field 'query' \(or 'prompt'\)$"),
        ({"prompt": "Write f", "rejected": "y"}, r"line 2: missing field 'chosen'$"),
        ({"prompt": "Write f"}, r"line 2: missing field 'chosen', 'rejected'$"),
        ({"prompt": "  ", "chosen": "x", "rejected": "y"}, r"line 2: field 'prompt' is empty"),
        (
            {"prompt": [{"role": "user", "content": "Write f"}], "chosen": "x", "rejected": "y"},
            r"line 2: field 'prompt' is not a string",
        ),
        (
            {"query": "Write f", "prompt": "Write g", "chosen": "x", "rejected": "y"},
            r"line 2: fields 'query' and 'prompt' differ",
        ),
        (
            {"query": "Write f", "chosen": "x", "rejected": "y", "problem_id": ["f"]},
            r"line 2: field 'problem_id' is not a string or an integer",
        ),
        (
            {"query": "Write f", "chosen": "x", "rejected": "y", "problem_id": ""},
            r"line 2: field 'problem_id' is empty",
        ),
    ],
)
def test_a_bad_minimal_line_is_named_with_its_field(
    tmp_path: Path, bad: dict[str, object], message: str
) -> None:
    good = minimal(synthetic_pairs(1)[0], key="prompt")
    path = lines(tmp_path / "p.jsonl", good, bad, good)
    with pytest.raises(FineTuneError, match=message):
        read_pairs(path)


def test_validation_is_a_share_of_the_training_problems_and_off_below_the_minimum() -> None:
    pairs = synthetic_pairs(40, per_problem=2)
    train, validation = split_validation(pairs, share=0.15, seed=0, min_problems=3)
    train_problems = {problem_key(p.query) for p in train}
    validation_problems = {problem_key(p.query) for p in validation}
    assert len(validation_problems) == 6 and len(train_problems) == 34
    assert not train_problems & validation_problems
    assert len(train) + len(validation) == len(pairs)
    assert split_validation(pairs, share=0.15, seed=0, min_problems=3) == (train, validation)
    # 16 problems: 15% is 2, fewer than 3, so everything is trained on.
    few = synthetic_pairs(16)
    assert split_validation(few, share=0.15, seed=0, min_problems=3) == (few, [])


def test_other_problem_pairs_set_a_problem_s_answer_against_other_problems_answers() -> None:
    pairs = synthetic_pairs(5, per_problem=2)
    extra = other_problem_pairs(pairs, per_problem=2, seed=0)
    assert len(extra) == 10
    chosen_of: dict[str, str] = {}
    for p in pairs:
        chosen_of.setdefault(problem_key(p.query), p.chosen)  # each problem's first pair
    for pair in extra:
        assert pair.chosen == chosen_of[problem_key(pair.query)]
        assert pair.rejected in chosen_of.values() and pair.rejected != pair.chosen
    assert other_problem_pairs(pairs, per_problem=2, seed=0) == extra
    assert other_problem_pairs(pairs, per_problem=0) == []
    assert other_problem_pairs(synthetic_pairs(1, per_problem=3), per_problem=1) == []
