"""The embedded model's process decodes concurrent calls together, prompts an instruct GGUF
through its chat template, and refuses what cannot fit with a clear reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from coderank.agents.llm import build_chat_model, chat_messages
from coderank.agents.model_process import INFO_PATH
from coderank.agents.prompts import SYSTEM_PROMPTS
from coderank.errors import ModelError
from harness.settings import make_settings

PROBLEMS = (
    "Write a function is_even(n) that returns True when n is even.",
    "Write a function square(x) that returns x squared.",
    "Write a function last(items) that returns the last item of a list.",
    "Write a function double(s) that returns the string s twice.",
)


def test_messages_keep_their_roles_for_the_chat_template() -> None:
    assert chat_messages([SystemMessage("Be short."), HumanMessage("Add.")]) == [
        {"role": "system", "content": "Be short."},
        {"role": "user", "content": "Add."},
    ]


@pytest.mark.slow
def test_four_calls_at_once_are_decoded_together_through_the_chat_template(
    tmp_path: Path, gguf_path: Path
) -> None:
    model = build_chat_model(make_settings(tmp_path, LLM_MAX_NEW_TOKENS="48"))
    model.process.ensure_ready()
    assert model.process.chat_template  # the default GGUF is an instruct model
    system = SystemMessage(SYSTEM_PROMPTS["concise_fixer"])
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda p: model.invoke([system, HumanMessage(p)]), PROBLEMS))
    for problem, reply in zip(PROBLEMS, replies, strict=True):
        name = problem.split()[3].split("(")[0]
        # Prompted as a chat, the model answers in its own fence, naming the function asked for.
        assert f"def {name}(" in reply.content, reply.content
        assert 0 < reply.response_metadata["usage"]["completion_tokens"] <= 48
        # Each of the four shared its decoding steps with the three others.
        assert reply.response_metadata["batched_with"] == 4, reply.response_metadata
    with model.process.client(timeout=10) as client:
        info = client.get(INFO_PATH).json()
    assert info["chat_template"] is True and info["peak_batch"] == 4


@pytest.mark.slow
def test_a_prompt_longer_than_a_sequence_is_refused_with_the_reason(
    tmp_path: Path, gguf_path: Path
) -> None:
    model = build_chat_model(make_settings(tmp_path, LLM_MAX_NEW_TOKENS="8"))
    with pytest.raises(ModelError, match=r"HTTP 400.*prompt has \d+ tokens; at most 2047 fit"):
        model.invoke("word " * 5000)
    # The model process goes on serving.
    assert model.invoke(PROBLEMS[0]).content


@pytest.mark.slow
def test_the_model_process_says_what_it_cannot_take(tmp_path: Path, gguf_path: Path) -> None:
    # LLM_THREADS=1: one decoding thread, for a machine shared with other CPU-heavy work.
    model = build_chat_model(make_settings(tmp_path, LLM_THREADS="1"))
    model.process.ensure_ready()
    with model.process.client(timeout=30) as client:
        assert client.get(INFO_PATH).json()["threads"] == 1
        both = client.post(
            "/coderank/completion",
            json={"prompt": "x", "messages": [{"role": "user", "content": "x"}]},
        )
        negative = client.post("/coderank/completion", json={"prompt": "x", "max_tokens": 0})
    assert both.status_code == 400 and "either prompt or messages" in both.text
    assert negative.status_code == 422
