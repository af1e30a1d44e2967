"""The chat-model factory: the embedded GGUF (through its supervised server process) or a hosted
model (the only module that imports langchain_huggingface)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from coderank.agents.model_process import DEADLINE_PATH, ModelProcess, model_process
from coderank.agents.packaged import PACKAGED_MODELS, assemble
from coderank.errors import ModelCrashedError, ModelError

if TYPE_CHECKING:
    from coderank.config import Settings

log = logging.getLogger(__name__)

# A base model continues text; these end an answer before it starts a new problem. (A chat
# template ends a turn with its own end-of-generation token.)
STOP = ["\nProblem:", "\nInstructions:", "<end_of_turn>", "<eos>"]

TEMPERATURE = 0.7
# How long past its deadline a call waits for the model process's answer.
_ANSWER_GRACE_S = 30.0

# One worked example shows a base model the shape of an answer.
_EXAMPLE = (
    "Problem: Write a function that returns the largest of a list of numbers.\n\n"
    'Answer:\n```python\ndef largest(numbers):\n    """Return the largest number."""\n'
    "    return max(numbers)\n```\nThis uses the built-in max, which is O(n).\n\n"
)


def render_completion_prompt(messages: Sequence[BaseMessage]) -> str:
    """Chat messages as one completion prompt, for a base model without a chat template.

    The answer is primed with a Python code fence so the model starts with code. A prompt that
    brings its own worked example (an answer turn before the last problem) does without the
    default one.
    """
    parts = [] if any(isinstance(m, AIMessage) for m in messages) else [_EXAMPLE]
    for message in messages:
        text = message.content if isinstance(message.content, str) else str(message.content)
        if isinstance(message, SystemMessage):
            parts.append(f"Instructions: {text.strip()}")
        elif isinstance(message, HumanMessage):
            parts.append(f"Problem: {text.strip()}")
        else:
            parts.append(f"Answer:\n{text.strip()}")
    return "\n\n".join(parts) + "\n\nAnswer:\n```python\n"


def chat_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as the ``role``/``content`` pairs a GGUF's chat template reads."""
    roles = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}
    out = []
    for message in messages:
        text = message.content if isinstance(message.content, str) else str(message.content)
        out.append({"role": roles.get(type(message), "user"), "content": text})
    return out


class LocalModelChat(BaseChatModel):
    """A chat model over the embedded GGUF, served by a supervised child process
    (:mod:`coderank.agents.model_process`) that decodes concurrent calls together.

    A GGUF with a chat template (an instruct model) is prompted through it and ends at its
    end-of-turn token; one without (a base model) gets :func:`render_completion_prompt` and the
    stop strings that end a continued text. ``temperature`` may be bound per call
    (``model.bind(temperature=...)``). The model process stops generating at the call's deadline
    (``timeout_s`` from the call, waiting for the model included), so a caller that gave up does
    not keep the shared model busy. If the process dies during the call,
    :class:`ModelCrashedError` says how; it is started again.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    process: ModelProcess
    model_path: str
    max_tokens: int = 256
    temperature: float = TEMPERATURE
    timeout_s: float = 120.0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-batched"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        deadline = time.time() + self.timeout_s
        self.process.ensure_ready()
        incarnation = self.process.incarnation
        chat = self.process.chat_template
        request: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "stop": list(stop or []),
            "deadline": deadline,
        }
        if chat:
            request["messages"] = chat_messages(messages)
        else:
            request["prompt"] = render_completion_prompt(messages)
            request["stop"] += STOP
        try:
            out = self._complete(request, deadline)
        except httpx.TimeoutException:
            out = {"choices": [{"text": ""}], "usage": {}}
        except httpx.TransportError as exc:
            how = self.process.crash_since(incarnation)
            if how is not None:
                raise ModelCrashedError(
                    f"the embedded model process {how} while generating; CodeRank started it "
                    "again, so please ask again"
                ) from None
            raise ModelError(f"the embedded model did not answer ({type(exc).__name__})") from None
        text = out["choices"][0]["text"]
        if not chat:  # the completion prompt ends inside an opened code fence
            text = "```python\n" + text
            if text.count("```") % 2:
                text = text.rstrip() + "\n```"
        usage = out.get("usage") or {"completion_tokens": 0}
        message = AIMessage(
            content=text,
            response_metadata={
                "usage": usage,
                "model": self.model_path.rsplit("/", 1)[-1],
                "batched_with": out.get("batched_with", 1),
                "finish_reason": out["choices"][0].get("finish_reason"),
            },
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)], llm_output={"usage": usage}
        )

    def _complete(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        """One completion that the model process ends at ``deadline`` (``time.time()``)."""
        # The process stops at the deadline; the client waits a little longer for the answer
        # (a prompt being read cannot be interrupted).
        wait = max(0.0, deadline - time.time()) + _ANSWER_GRACE_S
        with self.process.client(timeout=httpx.Timeout(wait, connect=5.0)) as client:
            response = client.post(DEADLINE_PATH, json=request)
        if response.status_code != 200:
            raise ModelError(
                f"the embedded model refused the request (HTTP {response.status_code}: "
                f"{response.text[:200]})"
            )
        result: dict[str, Any] = response.json()
        return result


def local_gguf_path(settings: Settings) -> Path:
    """The GGUF to run: ``LOCAL_GGUF_PATH``, else the packaged ``LOCAL_MODEL``, assembled once
    into the cache folder from its packages and checked (:func:`coderank.agents.packaged.assemble`).

    Raises:
        PackagedModelError: one line naming the package at fault and the fix.
    """
    if settings.local_gguf_path:
        return Path(settings.local_gguf_path)
    return assemble(PACKAGED_MODELS[settings.local_model], settings.cache_dir)


def local_model(settings: Settings) -> ModelProcess:
    """The supervised process of the embedded model (one per GGUF and process; started on first
    use or by :meth:`ModelProcess.ensure_ready`)."""
    return model_process(local_gguf_path(settings), n_threads=settings.llm_threads)


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the agents share, chosen by ``LLM_BACKEND``.

    For ``local``, the first generation starts the embedded model's process and self-checks it;
    call ``local_model(settings).ensure_ready()`` to do that up front.
    """
    if settings.llm_backend == "local":
        process = local_model(settings)
        return LocalModelChat(
            process=process,
            model_path=str(process.model_path),
            max_tokens=settings.llm_max_new_tokens,
            timeout_s=settings.llm_timeout_s,
        )
    return _build_hf(settings)


def _build_hf(settings: Settings) -> BaseChatModel:
    from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint

    options: dict[str, Any] = {
        "max_new_tokens": settings.llm_max_new_tokens,
        "timeout": settings.llm_timeout_s,
        "temperature": TEMPERATURE,
        "task": "text-generation",
    }
    if settings.hf_token:
        options["huggingfacehub_api_token"] = settings.hf_token
    if settings.hf_endpoint_url:
        llm = HuggingFaceEndpoint(endpoint_url=settings.hf_endpoint_url, **options)
    else:
        llm = HuggingFaceEndpoint(repo_id=settings.hf_model, **options)
    return ChatHuggingFace(llm=llm, model_id=settings.hf_model)


def model_name(settings: Settings) -> str:
    """A readable identifier of the chat model, stored with every response."""
    if settings.llm_backend == "local":
        if settings.local_gguf_path:
            return Path(settings.local_gguf_path).name
        return PACKAGED_MODELS[settings.local_model].file_name
    return settings.hf_endpoint_url or settings.hf_model
