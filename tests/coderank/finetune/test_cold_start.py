"""Cold start: pairs decided by execution, before anyone has voted, and the fine-tune script
trained on them (``--from-executions``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from coderank.finetune.executions import execution_pairs
from coderank.services import Services, build_services
from harness.fakes import LengthReranker, fake_agents
from harness.finetune_data import synthetic_pairs, write_jsonl
from harness.settings import make_settings
from tests.coderank.finetune.test_script import run

ANSWERS = {
    "concise_fixer": "```python\ndef add(a, b):\n    return a + b\n```",
    "explainer": "```python\ndef add(a, b):\n    return a + b + 1\n```\nIt adds.",
    "optimizer": "```python\ndef add(a, b):\n    return a * b\n```\nO(1).",
}


def problem(i: int) -> str:
    return f"Write add(a, b), case {i}.\n>>> add(2, 3)\n5\n>>> add(0, {i})\n{i}\n>>> add(1, 1)\n2"


def seeded(tmp: Path, comparisons: int) -> Services:
    """A store holding ``comparisons`` open comparisons (nobody voted) whose answers ran."""
    services = build_services(
        make_settings(tmp, VOTE_QUORUM="0"),
        agents=fake_agents(ANSWERS),
        reranker=LengthReranker(),
        rng=random.Random(1),
    )
    for i in range(comparisons):
        services.comparisons.start(problem(i), requester="U1", source="cli")
    return services


def test_each_two_answers_execution_decides_make_a_pair(tmp_path: Path) -> None:
    services = seeded(tmp_path, 2)
    try:
        pairs, count = execution_pairs(services.store)
    finally:
        services.close()
    # concise_fixer passes 3/3; explainer 0/3; optimizer (a * b) 1/3 for case 0, 0/3 for case 1
    assert {(p.chosen_agent, p.rejected_agent) for p in pairs} == {
        ("concise_fixer", "explainer"),
        ("concise_fixer", "optimizer"),
    }
    assert len(pairs) == 4 and count.exported == 4
    assert count.skipped == {"not decided by execution": 2}  # explainer vs optimizer
    assert all(p.votes == {} and p.query.startswith("Write add") for p in pairs)
    assert all("return a + b\n" in p.chosen for p in pairs)


def test_too_few_execution_pairs_exit_2_and_say_how_many(tmp_path: Path) -> None:
    seeded(tmp_path, 1).close()
    out = run(tmp_path, "--from-executions", "--out", str(tmp_path / "models" / "ft"))
    assert out.returncode == 2
    assert "execution-decided pairs: 2 pairs exported" in out.stderr
    assert out.stderr.splitlines()[-1] == "error: too few pairs: 2, need at least 20"
    assert not (tmp_path / "models" / "ft").exists()


@pytest.mark.slow
def test_a_cold_start_trains_on_execution_and_is_measured_on_voted_pairs(tmp_path: Path) -> None:
    seeded(tmp_path, 12).close()
    voted = write_jsonl(synthetic_pairs(12, seed=5), tmp_path / "voted.jsonl")
    target = tmp_path / "models" / "ft"
    out = run(
        tmp_path, "--from-executions", "--held-out", str(voted), "--out", str(target),
        "--epochs", "1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "execution-decided pairs: 24 pairs exported" in out.stderr
    assert "+12 against another problem's answer, 12 held out" in out.stdout
    assert "24 train on 12 problems" in out.stdout
    assert "held-out accuracy after" in out.stdout
