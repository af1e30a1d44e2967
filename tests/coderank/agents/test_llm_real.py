"""Real generations: the embedded llama.cpp model, and the hosted path against a real server."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from coderank.agents.agents import build_agents, build_tester
from coderank.agents.llm import build_chat_model, model_name
from coderank.agents.packaged import DEFAULT_MODEL
from harness.servers import llama_server
from harness.settings import make_settings

pytestmark = pytest.mark.slow
PROBLEM = "Write a function is_even(n) that returns True when n is even."


def allow_hub_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE blocks HuggingFaceEndpoint even on 127.0.0.1; huggingface_hub reads it once
    at import, so the constant is switched too."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def test_the_default_model_answers_as_the_agents_and_the_tester_in_one_process(
    tmp_path: Path, default_gguf_path: Path
) -> None:
    """The default (Qwen2.5-Coder-1.5B) for real; the other tests generate with the 0.5B."""
    settings = make_settings(tmp_path, LOCAL_MODEL=DEFAULT_MODEL, LLM_MAX_NEW_TOKENS="96")
    assert model_name(settings) == default_gguf_path.name
    model = build_chat_model(settings)
    assert build_chat_model(settings).process is model.process  # one model process per process
    model.process.ensure_ready()
    # The runtime chose a CPU back-end variant at load, and never the AMX one that crashes.
    info = model.process.runtime_info()
    assert "cpu variants: libggml-cpu-" in info, info
    assert "AMX_INT8 = 1" not in info
    agents = build_agents(model, timeout_s=120)
    tester = build_tester(model, timeout_s=120)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda a: a.answer(PROBLEM), [*agents.values(), tester]))
    for answer in answers[:3]:
        assert answer.ok, answer.error
        # The code-instruct model names the function as asked and leaves tests to the Tester.
        assert "def is_even(" in answer.code, answer.text
        assert "assert " not in answer.code, answer.code
    tests = answers[3]
    assert tests.ok and "assert is_even(" in tests.text, tests.text


def test_a_base_model_without_a_chat_template_is_prompted_as_a_completion(
    tmp_path: Path, gemma_gguf_path: Path
) -> None:
    """Gemma 3 270M (``LOCAL_MODEL=gemma-3-270m``) stays usable as the small option."""
    settings = make_settings(tmp_path, LOCAL_MODEL="gemma-3-270m", LLM_MAX_NEW_TOKENS="32")
    model = build_chat_model(settings)
    model.process.ensure_ready()
    assert not model.process.chat_template
    reply = model.invoke(PROBLEM)
    assert reply.content.startswith("```python\n")  # the completion prompt opened the fence
    assert 0 < reply.response_metadata["usage"]["completion_tokens"] <= 32
    # The Tester on the base model: its worked example makes it write assert lines.
    tests = build_tester(model, timeout_s=120).answer(PROBLEM)
    assert tests.ok and "\nassert " in tests.text, tests.text


def test_hosted_path_talks_to_an_openai_compatible_server(
    tmp_path: Path, gguf_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_hub_client(monkeypatch)
    with llama_server(gguf_path, log_path=tmp_path / "server.log") as url:
        settings = make_settings(
            tmp_path, LLM_BACKEND="hf", HF_ENDPOINT_URL=url, LLM_MAX_NEW_TOKENS="32"
        )
        model = build_chat_model(settings)
        assert type(model).__name__ == "ChatHuggingFace"
        answer = build_agents(model, timeout_s=120)["concise_fixer"].answer(PROBLEM)
    assert answer.ok, answer.error
    assert 'POST /v1/chat/completions HTTP/1.1" 200' in (tmp_path / "server.log").read_text()
    assert "HF_HUB_OFFLINE" not in os.environ


def test_an_unreachable_hosted_model_gives_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_hub_client(monkeypatch)
    settings = make_settings(
        tmp_path,
        LLM_BACKEND="hf",
        HF_ENDPOINT_URL="http://127.0.0.1:9",
        LLM_TIMEOUT_S="5",
        HUGGINGFACEHUB_API_TOKEN="hf_topsecret_token",
    )
    answer = build_agents(build_chat_model(settings), timeout_s=5)["optimizer"].answer(PROBLEM)
    assert not answer.ok
    assert answer.error
    assert "hf_topsecret_token" not in answer.error


def test_a_local_generation_stops_at_its_deadline(tmp_path: Path, gguf_path: Path) -> None:
    """A timed-out agent must not keep the shared model busy for the retry or other agents."""
    model = build_chat_model(make_settings(tmp_path))
    model.process.ensure_ready()  # the deadline counts from the call; the start is not timed
    short = build_chat_model(
        make_settings(tmp_path, LLM_MAX_NEW_TOKENS="2000", LLM_TIMEOUT_S="0.5")
    )
    message = short.invoke("Write a long essay about the history of Python.")
    # The model process ended it at the deadline, long before its 2000 tokens.
    assert message.response_metadata["finish_reason"] == "deadline", message.response_metadata
    assert message.response_metadata["usage"]["completion_tokens"] < 2000
