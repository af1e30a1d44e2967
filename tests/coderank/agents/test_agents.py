"""Agent chains, code extraction and the completion prompt, over scripted chat models."""

from __future__ import annotations

import time

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from coderank.agents.agents import build_agents, extract_code
from coderank.agents.llm import render_completion_prompt
from coderank.agents.prompts import AGENTS, LABELS, SYSTEM_PROMPTS, TESTER


def test_extract_code_takes_the_first_python_block() -> None:
    text = "Here:\n```\nplain\n```\n```python\ndef f():\n    return 1\n```\nDone."
    assert extract_code(text) == "def f():\n    return 1"


def test_extract_code_handles_cut_off_and_missing_blocks() -> None:
    assert extract_code("```python\ndef f():\n    pass") == "def f():\n    pass"
    assert extract_code("```\nprint(1)\n```") == "print(1)"
    assert extract_code("no code here, just a ```python mention inline") == ""


def test_a_block_cut_off_by_the_token_limit_keeps_the_code_it_finished() -> None:
    cut = '```python\ndef total(xs):\n    return sum(xs)\n\n# Example usage\ns = "apple=5;banana'
    assert extract_code(cut) == "def total(xs):\n    return sum(xs)\n\n# Example usage"
    # A closed block is taken as written, even when it does not parse.
    assert extract_code("```python\nprint('a\n```\nDone.") == "print('a"


def test_three_agents_each_with_their_own_system_prompt() -> None:
    model = FakeListChatModel(responses=["```python\nx = 1\n```"])
    agents = build_agents(model, timeout_s=5)
    assert tuple(agents) == AGENTS
    assert set(SYSTEM_PROMPTS) == set(AGENTS) and set(LABELS) == {*AGENTS, TESTER}
    answer = agents["optimizer"].answer("Set x to 1")
    assert answer.ok and answer.code == "x = 1" and answer.agent == "optimizer"
    prompt = agents["optimizer"].chain.first.invoke({"problem": "Set x to 1"})
    assert prompt.messages[0].content == SYSTEM_PROMPTS["optimizer"]
    assert prompt.messages[1].content == "Set x to 1"


def test_a_slow_agent_times_out_after_one_retry() -> None:
    model = FakeListChatModel(responses=["```python\nx = 1\n```"], sleep=1.0)
    agent = build_agents(model, timeout_s=0.2)["explainer"]
    started = time.monotonic()
    answer = agent.answer("anything")
    assert not answer.ok
    assert answer.error == "timed out after 0.2 s"
    assert time.monotonic() - started < 0.9  # two attempts of 0.2 s, not the model's 1 s each


def test_completion_prompt_for_a_base_model() -> None:
    prompt = render_completion_prompt(
        [SystemMessage("Be brief."), HumanMessage("Write is_even(n)")]
    )
    assert "Instructions: Be brief.\n\nProblem: Write is_even(n)" in prompt
    assert prompt.endswith("Answer:\n```python\n")
