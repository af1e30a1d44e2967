"""Several generations decoded together: one llama.cpp batch a step for all running sequences.

The three agents and the Tester ask the model at the same moment. Decoded one after another,
each new token of each answer costs one pass over the model's weights, and on a CPU that pass
(reading the weights from memory) is most of the cost. Decoded together, each step puts the
next token of every running answer in one ``llama_batch``, each under its own sequence id
(``n_seq_max`` sequences, each with its own part of the KV cache), so one pass serves them all.
A request that arrives while others decode joins at the next step, its prompt read in the same
batch as the others' new tokens (continuous batching, as llama.cpp's own server does it).

llama-cpp-python's ``Llama`` decodes one sequence at a time, so this drives its low-level
wrappers (``_internals``: model, context, batch, sampler chain) directly. Only the model's own
process imports this module (a crash in llama.cpp ends that process, never the bot).
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import llama_cpp
from llama_cpp import _internals as internals
from llama_cpp._logger import set_verbose
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

log = logging.getLogger(__name__)


class PromptTooLongError(ValueError):
    """The prompt does not fit in one sequence's share of the context."""


@dataclass(frozen=True)
class Sampling:
    """How one sequence is sampled and when it stops."""

    max_tokens: int
    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    seed: int = llama_cpp.LLAMA_DEFAULT_SEED  # a random seed: a retry may answer otherwise
    stop: tuple[str, ...] = ()
    deadline: float = float("inf")  # time.time() at which generation stops


@dataclass(frozen=True)
class Generation:
    """What one sequence produced.

    ``finish_reason`` is "stop" (end of turn or a stop string), "length" (``max_tokens``) or
    "deadline"; ``batched_with`` is the most sequences decoded in one step while it ran
    (itself included).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    batched_with: int


@dataclass(eq=False)
class _Sequence:
    prompt: list[int]
    sampling: Sampling
    future: Future[Generation]
    slot: int = -1
    read: int = 0  # prompt tokens already in the KV cache
    sampler: internals.LlamaSampler | None = None
    logits_at: int = -1  # this step's batch index of its logits, or -1
    next_token: int | None = None  # sampled, not yet decoded
    out: bytearray = field(default_factory=bytearray)
    generated: int = 0
    peak: int = 1

    @property
    def pos(self) -> int:
        """The position of the next token this sequence puts in the KV cache."""
        return self.read + max(self.generated - 1, 0)


class BatchedModel:
    """One GGUF, one context of ``n_seq`` sequences, one thread that decodes them together.

    :meth:`generate` may be called from any number of threads; each call waits for its own
    sequence. Sequences beyond ``n_seq`` wait for a free one.
    """

    def __init__(
        self,
        model_path: str,
        *,
        n_seq: int = 4,
        n_ctx_per_seq: int = 2048,
        n_batch: int = 512,
        n_threads: int | None = None,
    ) -> None:
        threads = n_threads or len(os.sched_getaffinity(0))
        set_verbose(False)  # llama.cpp's own log: errors only (its debug lines come every step)
        self.n_seq = n_seq
        self.n_threads = threads
        self.n_ctx_per_seq = n_ctx_per_seq
        self.n_batch = n_batch
        model_params = internals.LlamaModel.default_params()
        self._model = internals.LlamaModel(
            path_model=model_path, params=model_params, verbose=False
        )
        params = internals.LlamaContext.default_params()
        params.n_ctx = n_ctx_per_seq * n_seq
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = n_seq
        params.kv_unified = False  # each sequence its own n_ctx_per_seq: attention stays short
        params.n_threads = threads
        params.n_threads_batch = threads
        self._ctx = internals.LlamaContext(model=self._model, params=params, verbose=False)
        self._batch = internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=False)
        self._vocab = self._model.vocab
        self._formatter = self._chat_formatter()
        self._queue: queue.Queue[_Sequence | None] = queue.Queue()
        self._free = list(range(n_seq))
        self._running: list[_Sequence] = []
        self._closed = False
        self.peak_batch = 0  # the most sequences one decode step has served so far
        self.generated = 0  # tokens sampled so far, every sequence together
        self._thread = threading.Thread(target=self._loop, name="batched-decode", daemon=True)
        self._thread.start()

    # --- prompts ------------------------------------------------------------------------------

    @property
    def has_chat_template(self) -> bool:
        return self._formatter is not None

    def _chat_formatter(self) -> Jinja2ChatFormatter | None:
        template = self._model.metadata().get("tokenizer.chat_template")
        if not template:
            return None
        eos, bos = self._model.token_eos(), self._model.token_bos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=self._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self._model.token_get_text(bos) if bos != -1 else "",
        )

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """``messages`` (``role``, ``content``) through the GGUF's own chat template, ending
        where the assistant's turn starts."""
        if self._formatter is None:
            raise ValueError("this GGUF has no chat template: send a completion prompt")
        return self._formatter(messages=messages).prompt  # type: ignore[arg-type]

    def tokenize(self, text: str, *, chat: bool) -> list[int]:
        """A chat prompt carries its own special tokens; a completion prompt gets the model's
        BOS as llama.cpp adds it."""
        tokens: list[int] = self._model.tokenize(text.encode(), add_bos=not chat, special=True)
        return tokens

    # --- generating ---------------------------------------------------------------------------

    def submit(self, prompt: list[int], sampling: Sampling) -> Future[Generation]:
        """Queue one sequence; the future holds its :class:`Generation`.

        Raises:
            PromptTooLongError: the prompt leaves no room for one new token.
        """
        if len(prompt) + 1 > self.n_ctx_per_seq:
            raise PromptTooLongError(
                f"the prompt has {len(prompt)} tokens; at most {self.n_ctx_per_seq - 1} fit"
            )
        room = self.n_ctx_per_seq - len(prompt)
        if sampling.max_tokens > room:
            sampling = replace(sampling, max_tokens=room)
        future: Future[Generation] = Future()
        if self._closed:
            raise RuntimeError("the model is closed")
        self._queue.put(_Sequence(prompt=prompt, sampling=sampling, future=future))
        return future

    def generate(self, prompt: list[int], sampling: Sampling) -> Generation:
        return self.submit(prompt, sampling).result()

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)

    # --- the decoding thread ------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            if not self._admit():
                break
            if not self._running:
                continue
            try:
                self._step()
            except Exception as exc:
                log.exception("batched decode failed")
                for seq in list(self._running):
                    self._finish(seq, error=exc)
        for seq in list(self._running):
            self._finish(seq, error=RuntimeError("the model is closed"))

    def _admit(self) -> bool:
        """Move queued sequences into free slots; wait for one while nothing runs. False when
        closing."""
        while self._free:
            try:
                seq = self._queue.get(block=not self._running, timeout=None)
            except queue.Empty:
                return True
            if seq is None:
                return False
            if seq.future.set_running_or_notify_cancel():
                self._start(seq)
        return True

    def _start(self, seq: _Sequence) -> None:
        seq.slot = self._free.pop(0)
        self._ctx.kv_cache_seq_rm(seq.slot, -1, -1)
        seq.sampler = _sampler(seq.sampling)
        self._running.append(seq)

    def _step(self) -> None:
        """Decode one batch: each generating sequence's last token, then as much of the waiting
        prompts as fits; sample every sequence whose logits came out."""
        batch = self._batch.batch
        n = 0
        now = time.time()
        for seq in list(self._running):
            if now >= seq.sampling.deadline:
                self._finish(seq, reason="deadline")
        for seq in self._running:
            seq.logits_at = -1
            if seq.next_token is not None:
                _put(batch, n, seq.next_token, seq.pos, seq.slot, logits=True)
                seq.logits_at, n = n, n + 1
        for seq in self._running:
            if seq.read < len(seq.prompt) and n < self.n_batch:
                chunk = seq.prompt[seq.read : seq.read + self.n_batch - n]
                for i, token in enumerate(chunk):
                    last = seq.read + i == len(seq.prompt) - 1
                    _put(batch, n, token, seq.read + i, seq.slot, logits=last)
                    if last:
                        seq.logits_at = n
                    n += 1
                seq.read += len(chunk)
        if n == 0:
            return
        batch.n_tokens = n
        self._ctx.decode(self._batch)
        served = sum(1 for s in self._running if s.logits_at >= 0)
        self.peak_batch = max(self.peak_batch, served)
        for seq in list(self._running):
            if seq.logits_at < 0:
                continue
            seq.peak = max(seq.peak, served)
            assert seq.sampler is not None
            token = seq.sampler.sample(self._ctx, seq.logits_at)
            self._advance(seq, token)

    def _advance(self, seq: _Sequence, token: int) -> None:
        self.generated += 1
        seq.generated += 1
        if llama_cpp.llama_vocab_is_eog(self._vocab, token):
            seq.generated -= 1
            self._finish(seq, reason="stop")
            return
        seq.out += _piece(self._vocab, token)
        seq.next_token = token
        stop = _stop_at(seq.out, seq.sampling.stop)
        if stop is not None:
            del seq.out[stop:]
            self._finish(seq, reason="stop")
        elif seq.generated >= seq.sampling.max_tokens:
            self._finish(seq, reason="length")

    def _finish(
        self, seq: _Sequence, *, reason: str = "", error: BaseException | None = None
    ) -> None:
        self._running.remove(seq)
        self._ctx.kv_cache_seq_rm(seq.slot, -1, -1)
        self._free.append(seq.slot)
        if seq.sampler is not None:
            seq.sampler.close()
        if error is not None:
            seq.future.set_exception(error)
            return
        seq.future.set_result(
            Generation(
                text=seq.out.decode("utf-8", errors="ignore"),
                prompt_tokens=len(seq.prompt),
                completion_tokens=seq.generated,
                finish_reason=reason,
                batched_with=seq.peak,
            )
        )


def _sampler(sampling: Sampling) -> internals.LlamaSampler:
    chain = internals.LlamaSampler()
    if sampling.temperature <= 0:
        chain.add_greedy()
        return chain
    chain.add_top_k(sampling.top_k)
    chain.add_top_p(sampling.top_p, 1)
    chain.add_min_p(sampling.min_p, 1)
    chain.add_temp(sampling.temperature)
    chain.add_dist(sampling.seed)
    return chain


def _put(batch: Any, i: int, token: int, pos: int, seq: int, *, logits: bool) -> None:
    """Token ``i`` of ``batch`` (a ``llama_batch``, whose ctypes stubs mistype its pointers)."""
    batch.token[i] = token
    batch.pos[i] = pos
    batch.n_seq_id[i] = 1
    batch.seq_id[i][0] = seq
    batch.logits[i] = logits


def _piece(vocab: llama_cpp.llama_vocab_p, token: int) -> bytes:
    """The text of ``token`` (special tokens render as nothing)."""
    buf = ctypes.create_string_buffer(64)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    return buf.raw[:n]


def _stop_at(out: bytearray, stops: tuple[str, ...]) -> int | None:
    """Where the first stop string starts in ``out``, if one is there."""
    found = [i for i in (out.find(s.encode()) for s in stops if s) if i >= 0]
    return min(found) if found else None
