"""Real generations: the embedded llama.cpp model, and the hosted path against a real server."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from coderank.agents.agents import build_agents, build_tester
from coderank.agents.llm import build_chat_model
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


def test_local_gemma_answers_from_three_threads_with_one_model(
    tmp_path: Path, gguf_path: Path
) -> None:
    settings = make_settings(tmp_path, LLM_MAX_NEW_TOKENS="64")
    model = build_chat_model(settings)
    assert build_chat_model(settings).process is model.process  # one model process per process
    model.process.ensure_ready()
    # The runtime chose a CPU back-end variant at load, and never the AMX one that crashes.
    info = model.process.runtime_info()
    assert "cpu variants: libggml-cpu-" in info, info
    assert "AMX_INT8 = 1" not in info
    agents = build_agents(model, timeout_s=120)
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda a: a.answer(PROBLEM), agents.values()))
    for answer in answers:
        assert answer.ok, answer.error
        assert answer.text.startswith("```python\n")
    usage = model.invoke(PROBLEM).response_metadata["usage"]
    assert 0 < usage["completion_tokens"] <= 64
    # The Tester on the same base model: its worked example makes it write assert lines.
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
    settings = make_settings(tmp_path, LLM_MAX_NEW_TOKENS="2000", LLM_TIMEOUT_S="0.5")
    model = build_chat_model(settings)
    started = time.monotonic()
    message = model.invoke("Write a long essay about Python.")
    assert time.monotonic() - started < 2.0
    assert message.response_metadata["usage"]["completion_tokens"] < 200
