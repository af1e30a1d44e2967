"""The embedded model's own process: one GGUF served on a Unix socket, its requests decoded
together (:mod:`coderank.agents.batched`).

``python -m coderank.agents.model_server --model X.gguf --socket PATH --parent-pid N`` is started
and watched by :class:`coderank.agents.model_process.ModelProcess`; nothing else imports it. This
module and :mod:`coderank.agents.batched`, which only it imports, are the only ones that import
``llama_cpp``: llama.cpp is native code, and a segfault, an abort or an out-of-memory kill in it
ends this process, never the bot or the command line.

``--host 127.0.0.1 --port N`` serves any GGUF over HTTP instead, for ``LLM_BACKEND=hf`` with
``HF_ENDPOINT_URL`` (plain ``python -m llama_cpp.server`` finds no CPU back-end in this portable
build: see :func:`load_cpu_backend`).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coderank.agents.model_process import DEADLINE_PATH, INFO_PATH

if TYPE_CHECKING:
    from fastapi import FastAPI

    from coderank.agents.batched import BatchedModel

# llama-cpp-python's own libraries; the CPU back-end variants sit beside them when llama.cpp is
# built with GGML_BACKEND_DL and GGML_CPU_ALL_VARIANTS (scripts/install_llama_cpp.sh).
CPU_VARIANT_GLOB = "libggml-cpu-*.so"


def _die_with_parent(parent_pid: int) -> None:
    """End this process when its parent ends, even by ``kill -9``: no orphaned model keeps the
    CPU or the socket. (Not ``PR_SET_PDEATHSIG``: it fires when the parent *thread* that started
    the child ends, and the supervisor restarts children from a short-lived thread.)"""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    if os.getppid() != parent_pid:
        os._exit(0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def load_cpu_backend() -> str:
    """Load the best CPU back-end variant for this CPU, when llama.cpp was built with variants.

    llama.cpp would look for them only in the folder it was compiled in and the working
    directory, and llama-cpp-python 0.3.x does not pass its own folder (its issue #2069). The
    call goes through ``libllama``'s handle: the wheel holds separate copies of ``libggml.so`` and
    ``libggml.so.0``, and only the one ``libllama`` links to holds its registry of back-ends.
    Returns the variants found, or "" for a build with one built-in CPU back-end.
    """
    from llama_cpp import llama_cpp as bindings

    lib_dir = Path(bindings.__file__).parent / "lib"
    variants = sorted(p.name for p in lib_dir.glob(CPU_VARIANT_GLOB))
    if not variants:
        return ""
    load = bindings._lib.ggml_backend_load_all_from_path
    load.argtypes = [ctypes.c_char_p]
    load.restype = None
    load(str(lib_dir).encode())
    return ", ".join(variants)


def batched_app(engine: BatchedModel, *, model_name: str) -> FastAPI:
    """The supervised model process's routes, all served by one :class:`BatchedModel`.

    ``GET /coderank/info``: the model and whether it has a chat template (the caller then sends
    ``messages``, else a completion ``prompt``). ``POST /coderank/completion``: one generation,
    decoded together with whatever else is running, stopped at ``deadline`` (``time.time()`` on
    the same machine) so a caller that gave up does not keep the model busy.
    """
    import asyncio

    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel, Field

    from coderank.agents.batched import PromptTooLongError, Sampling

    class Message(BaseModel):
        role: str
        content: str

    class CompletionRequest(BaseModel):
        prompt: str | None = None
        messages: list[Message] | None = None
        max_tokens: int = Field(default=256, ge=1)
        temperature: float = Field(default=0.7, ge=0)
        top_p: float = Field(default=0.95, gt=0, le=1)
        seed: int | None = None  # None: a random one
        stop: list[str] = []
        deadline: float = float("inf")

    app = FastAPI()

    @app.get(INFO_PATH)
    async def info() -> dict[str, Any]:
        return {
            "model": model_name,
            "chat_template": engine.has_chat_template,
            "sequences": engine.n_seq,
            "threads": engine.n_threads,
            "peak_batch": engine.peak_batch,
            "generated": engine.generated,  # a watcher sees a generation under way
        }

    async def completion(body: CompletionRequest) -> dict[str, Any]:
        if (body.prompt is None) == (body.messages is None):
            raise HTTPException(400, "send either prompt or messages")
        if body.messages is not None:
            if not engine.has_chat_template:
                raise HTTPException(400, "this GGUF has no chat template: send a prompt")
            text = engine.chat_prompt([m.model_dump() for m in body.messages])
        else:
            text = body.prompt or ""
        tokens = engine.tokenize(text, chat=body.messages is not None)
        sampling = Sampling(
            max_tokens=body.max_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            stop=tuple(body.stop),
            deadline=body.deadline,
            **({} if body.seed is None else {"seed": body.seed}),
        )
        try:
            done = await asyncio.wrap_future(engine.submit(tokens, sampling))
        except PromptTooLongError as exc:
            raise HTTPException(400, str(exc)) from None
        return {
            "choices": [{"text": done.text, "finish_reason": done.finish_reason}],
            "usage": {
                "prompt_tokens": done.prompt_tokens,
                "completion_tokens": done.completion_tokens,
                "total_tokens": done.prompt_tokens + done.completion_tokens,
            },
            "batched_with": done.batched_with,
        }

    # FastAPI reads the body's model from the annotation, which this module's
    # ``from __future__ import annotations`` leaves as a string naming a local class.
    completion.__annotations__ = {"body": CompletionRequest, "return": dict[str, Any]}
    app.post(DEADLINE_PATH)(completion)
    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m coderank.agents.model_server")
    parser.add_argument("--model", required=True, help="the GGUF file")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="the Unix socket to serve on")
    where.add_argument("--port", type=int, help="or a TCP port (with --host)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when it stops")
    parser.add_argument("--n-ctx", type=int, default=2048, help="tokens of context a sequence")
    parser.add_argument(
        "--sequences", type=int, default=4, help="sequences decoded together (--socket only)"
    )
    parser.add_argument("--n-threads", type=int, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.parent_pid is not None:
        _die_with_parent(args.parent_pid)
    variants = load_cpu_backend()

    import llama_cpp
    import uvicorn

    info = llama_cpp.llama_print_system_info().decode().strip()
    if args.socket:  # the supervised child: its output is read back only to explain a failure
        from coderank.agents.batched import BatchedModel

        engine = BatchedModel(
            args.model, n_seq=args.sequences, n_ctx_per_seq=args.n_ctx, n_threads=args.n_threads
        )
        app = batched_app(engine, model_name=Path(args.model).name)
        print(
            f"model_server: ready; {info}; cpu variants: {variants or 'built in'}", file=sys.stderr
        )
        uvicorn.run(app, uds=args.socket, log_level="warning", access_log=False)
        return 0
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    # As ``llama_cpp.Llama`` would load it: the server's own default logits_all=True computes the
    # logits of every prompt token over the whole vocabulary (slower, and never read here).
    model = {
        "model": args.model,
        "n_ctx": args.n_ctx,
        "seed": 0,
        "verbose": False,
        "logits_all": False,
    }
    if args.n_threads:
        model["n_threads"] = args.n_threads
    # interrupt_requests would cut a streaming answer short whenever another request waits.
    app = create_app(
        server_settings=ServerSettings(interrupt_requests=False),
        model_settings=[ModelSettings(**model)],
    )
    print(f"model_server: ready; {info}; cpu variants: {variants or 'built in'}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
