"""The Tester: tests written from the problem alone, run against every answer in the real
sandbox (CodeT-style cross-execution), stored with the comparison and shown at the reveal."""

from __future__ import annotations

import io
import random
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from coderank.agents.llm import render_completion_prompt
from coderank.agents.prompts import tester_prompt
from coderank.cli import _reveal
from coderank.execution import tester_checks
from coderank.models import Comparison
from coderank.services import build_services
from coderank.store import COMPARISONS, EXECUTIONS
from harness.fakes import LengthReranker, fake_agents, fake_tester
from harness.settings import make_settings

PROBLEM = "Write a function add(a, b) that returns the sum of a and b."
ANSWERS = {
    "concise_fixer": "```python\ndef add(a, b):\n    return a + b\n```",
    "explainer": "```python\ndef add(a, b):\n    # off by one\n    return a + b + 1\n```\nIt adds.",
    "optimizer": "```python\ndef add(a, b):\n    return a - b\n```\nO(1).",
}
# The Tester's answer: three good tests, one repeated, one that does not compile, prose.
TESTER_TEXT = (
    "```python\nassert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(1, 2) == 3\n"
    "assert add(2,, 3) == 5\nassert add(-1, 1) == 0\n```\nThese check small sums."
)


def test_the_testers_answer_becomes_its_assert_lines() -> None:
    checks = tester_checks(TESTER_TEXT)
    assert [c.source for c in checks] == [
        "assert add(1, 2) == 3",
        "assert add(0, 0) == 0",
        "assert add(-1, 1) == 0",
    ]
    assert {c.origin for c in checks} == {"tester"}
    assert tester_checks("I cannot write tests for that.") == []
    indented = "```python\ndef test():\n    assert add(1, 2) == 3\n```"
    assert tester_checks(indented) == []  # only top-level asserts: a body would never run


def test_the_base_model_sees_the_testers_own_example_not_the_agents() -> None:
    messages = tester_prompt().format_messages(problem=PROBLEM)
    assert isinstance(messages[-2], AIMessage)
    prompt = render_completion_prompt(messages)
    assert "assert largest([1, 5, 3]) == 5" in prompt
    assert "def largest(numbers):" not in prompt  # the agents' example is left out
    assert prompt.rstrip().endswith(f"Problem: {PROBLEM}\n\nAnswer:\n```python")
    agents = render_completion_prompt([SystemMessage("Be short."), HumanMessage(PROBLEM)])
    assert "def largest(numbers):" in agents


def test_every_answer_runs_against_every_tester_test_and_the_tests_are_stored(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, VOTE_QUORUM="0", PAIR_EXPLORE="0")
    services = build_services(
        settings,
        agents=fake_agents(ANSWERS),
        tester=fake_tester(TESTER_TEXT),
        reranker=LengthReranker(),
        rng=random.Random(3),
    )
    try:
        comparison = services.comparisons.start(PROBLEM, requester="U1", source="cli")
        cid = comparison.comparison_id
        assert comparison.tests == (
            "assert add(1, 2) == 3",
            "assert add(0, 0) == 0",
            "assert add(-1, 1) == 0",
        )
        runs = {d["agent"]: d for d in services.store.find(EXECUTIONS, {"comparison_id": cid})}
        assert {a: r["outcomes"] for a, r in runs.items()} == {
            "concise_fixer": [True, True, True],
            "explainer": [False, False, False],
            "optimizer": [False, True, False],
        }
        assert runs["concise_fixer"]["summary"] == "3/3 checks passed"
        assert runs["optimizer"]["summary"] == "1/3 checks passed"
        stored = services.store.get(COMPARISONS, cid)
        assert stored is not None and stored["tests"] == list(comparison.tests)
        # Each answer's style, for the style-controlled leaderboard.
        assert stored["style"]["explainer"]["code_blocks"] == 1.0
        assert stored["style"]["explainer"]["explanation_share"] == 0.5  # comment + prose of 4
        # The pair policy ranks by execution first: the two best-running answers are shown.
        assert comparison.pair is not None
        assert {comparison.pair.a, comparison.pair.b} == {"concise_fixer", "optimizer"}

        services.comparisons.vote(cid, user="U1", choice="A")
        closed = services.comparisons.close(cid, user="U1")
        out = io.StringIO()
        _reveal(closed, out)
        shown = out.getvalue()
        right = "A" if closed.pair is not None and closed.pair.a == "concise_fixer" else "B"
        assert "  Tester: assert add(-1, 1) == 0" in shown
        assert f"CodeRank picked {right} (execution decided;" in shown
        assert services.store.get(COMPARISONS, cid)["gold"] == right
    finally:
        services.close()


def test_a_failing_tester_leaves_the_problems_own_examples(tmp_path: Path) -> None:
    services = build_services(
        make_settings(tmp_path, VOTE_QUORUM="0"),
        agents=fake_agents(ANSWERS),
        tester=fake_tester("", failing=True),
        reranker=LengthReranker(),
    )
    try:
        comparison = services.comparisons.start(
            PROBLEM + "\n>>> add(2, 2)\n4", requester="U1", source="cli"
        )
        assert comparison.tests == ()
        assert comparison.checks["concise_fixer"] == "1/1 checks passed"
        assert comparison.checks["optimizer"] == "AssertionError: add(2, 2) returned 0"
    finally:
        services.close()


def test_no_tester_runs_when_execution_is_off(tmp_path: Path) -> None:
    tester = fake_tester(TESTER_TEXT)
    services = build_services(
        make_settings(tmp_path, VOTE_QUORUM="0", EXECUTION="off"),
        agents=fake_agents(ANSWERS),
        tester=tester,
        reranker=LengthReranker(),
    )
    try:
        comparison = services.comparisons.start(PROBLEM, requester="U1", source="cli")
        assert comparison.tests == () and comparison.checks == {}
        assert (
            Comparison.from_document(
                services.store.get(COMPARISONS, comparison.comparison_id) or {}
            )
            .pick_text()
            .startswith("CodeRank picked")
        )
    finally:
        services.close()
