"""The evaluation set: broken answers made one kind at a time, and kept only when running the
tests (in the real sandbox) shows them broken."""

from __future__ import annotations

from coderank.evalset import Problem, load_problems
from coderank.evalset.broken import (
    CRASH,
    SUBTLE,
    UNFINISHED,
    WRONG_PROBLEM,
    has_docstring,
    mutants,
)
from coderank.evalset.build import build_eval_set, one_of_each_kind, split_items
from coderank.evalset.score import ALL, kind_accuracy, preference_pairs
from coderank.execution.sandbox import Sandbox
from harness.fakes import LengthReranker

CLAMP = Problem(
    name="clamp_all",
    params="xs, low, high",
    description="Return xs with every number below low raised to low and above high cut to high.",
    body=("return [min(max(x, low), high) for x in xs]",),
    inputs=(([1, 5, 9], 2, 8), ([], 0, 1), ([-3, 3], -1, 1), ([4], 4, 4), ([0, 10], 1, 9)),
)
RUNS = Problem(
    name="longest_run",
    params="xs",
    description="Return the length of the longest run of equal neighbours in the list xs.",
    body=(
        "best = 0",
        "current = 0",
        "for i, x in enumerate(xs):",
        "    current = current + 1 if i > 0 and xs[i - 1] == x else 1",
        "    best = max(best, current)",
        "return best",
    ),
    inputs=(([],), ([7],), ([1, 1, 2, 2, 2],), ([3, 4, 5],), ([9, 9, 9, 1, 9, 9],)),
)
CONSTANT = Problem(  # its reference does not pass its own tests: dropped, never kept
    name="broken_reference",
    params="n",
    description="Return n.",
    body=("import random", "return random.random()"),
    inputs=((1,), (2,)),
)


def test_a_mutant_changes_one_thing() -> None:
    variants = mutants("def f(a, b):\n    return a + b if a < 2 else b", seed=0)
    assert sorted(variants) == sorted(
        [
            "def f(a, b):\n    return a - b if a < 2 else b",
            "def f(a, b):\n    return a + b if a <= 2 else b",
            "def f(a, b):\n    return a + b if a < 3 else b",
        ]
    )


def test_only_answers_the_tests_fail_are_kept_and_the_split_is_by_problem() -> None:
    report = build_eval_set([CLAMP, RUNS, CONSTANT], Sandbox(), seed=0)
    assert list(report.dropped) == ["broken_reference"]
    assert "fails its own tests" in report.dropped["broken_reference"]
    items = {item.problem.name: item for item in report.items}
    runs = items["longest_run"]
    assert runs.tests[2] == "assert longest_run([1, 1, 2, 2, 2]) == 3"
    kinds = {b.kind: b for b in runs.broken}
    assert set(kinds) == {SUBTLE, WRONG_PROBLEM, UNFINISHED, CRASH}
    assert kinds[CRASH].summary == "NameError: name 'validate_longest_run' is not defined"
    # None is no answer, and the summary says so
    assert kinds[UNFINISHED].summary == "AssertionError: longest_run([]) returned None"
    assert "checks passed" in kinds[SUBTLE].summary  # it runs, and gives some wrong answers
    assert kinds[SUBTLE].summary != "5/5 checks passed"
    wrong = kinds[WRONG_PROBLEM]  # another problem's reference: the tests' function is missing
    assert "def longest_run" not in wrong.text
    assert wrong.summary == "NameError: name 'longest_run' is not defined"

    pairs = preference_pairs(report.items)
    assert len(pairs) == sum(len(i.broken) for i in report.items)
    assert {p.chosen for p in pairs if p.query == RUNS.query} == {runs.reference}
    train, held = split_items(report.items, held_out=0.5, seed=0)
    assert {i.problem.name for i in train}.isdisjoint({i.problem.name for i in held})
    accuracy = kind_accuracy(LengthReranker(), report.items)
    assert accuracy[ALL].n == len(pairs)


def test_more_subtle_bugs_for_training_and_one_of_each_kind_to_measure() -> None:
    report = build_eval_set([RUNS, CLAMP], Sandbox(), seed=0, subtle=3)
    runs = next(i for i in report.items if i.problem.name == "longest_run")
    subtle = [b for b in runs.broken if b.kind == SUBTLE]
    assert len(subtle) == 3 and len({b.text for b in subtle}) == 3
    measured = one_of_each_kind(runs)
    assert [b.kind for b in measured.broken].count(SUBTLE) == 1
    assert measured.broken[0] == subtle[0]


def test_a_fine_tunes_figures_come_per_kind_when_the_pairs_carry_one() -> None:
    from bot.blocks.finetune import result_text
    from coderank.finetune.dataset import parse_pair
    from coderank.finetune.results import evaluate_held_out

    report = build_eval_set([RUNS, CLAMP], Sandbox(), seed=0)
    pairs = preference_pairs(report.items)
    assert {p.kind for p in pairs} == {SUBTLE, WRONG_PROBLEM, UNFINISHED, CRASH}
    assert parse_pair(pairs[0].to_json()) == pairs[0]  # the kind survives the JSON Lines format
    figures = evaluate_held_out(LengthReranker(), pairs)
    assert set(figures.by_kind) == {SUBTLE, WRONG_PROBLEM, UNFINISHED, CRASH}
    assert sum(e.n for e in figures.by_kind.values()) == figures.accuracy.n == len(pairs)
    assert figures.to_json()["by_kind"][CRASH]["n"] == 2
    metrics = {
        "pairs": {"total": 8, "train": 0, "held_out": 8, "held_out_problems": 2},
        "before": figures.to_json(),
        "after": figures.to_json(),
        "model": "m",
        "base_model": "b",
    }
    text = result_text({"metrics": metrics, "by": "U1", "promoted": False, "reason": "no"})
    assert f"• {CRASH}: " in text and "(n=2)" in text


def test_a_docstring_comes_with_the_problem_never_with_the_kind_of_answer() -> None:
    for share in (1.0, 0.0):
        report = build_eval_set([RUNS, CLAMP], Sandbox(), seed=0, subtle=2, docstring_share=share)
        for item in report.items:
            other = CLAMP if item.problem is RUNS else RUNS
            assert (f'"""{item.problem.description}"""' in item.reference) is (share == 1.0)
            for broken in item.broken:
                about = other if broken.kind == WRONG_PROBLEM else item.problem
                assert (f'"""{about.description}"""' in broken.text) is (share == 1.0)
                assert '"""' in broken.text or share == 0.0
            kinds = {b.kind for b in item.broken}  # still all broken; clamp_all has no mutant
            assert kinds == ({SUBTLE} if item.problem is RUNS else set()) | {
                WRONG_PROBLEM,
                UNFINISHED,
                CRASH,
            }
    # The shipped set: about half its problems, each with all its answers or none.
    dressed = [has_docstring(p, seed=0) for p in load_problems()]
    assert 0.35 < sum(dressed) / len(dressed) < 0.65
