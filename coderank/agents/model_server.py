"""The embedded model's own process: llama-cpp-python's OpenAI-compatible server on a Unix socket.

``python -m coderank.agents.model_server --model X.gguf --socket PATH --parent-pid N`` is started
and watched by :class:`coderank.agents.model_process.ModelProcess`; nothing else imports it. This
is the only module that imports ``llama_cpp``: llama.cpp is native code, and a segfault, an abort
or an out-of-memory kill in it ends this process, never the bot or the command line.

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

if TYPE_CHECKING:
    from fastapi import FastAPI

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


DEADLINE_PATH = "/coderank/completion"
# What a deadline completion passes on to ``Llama.create_completion``.
_COMPLETION_FIELDS = {
    "prompt",
    "max_tokens",
    "temperature",
    "top_p",
    "min_p",
    "top_k",
    "stop",
    "repeat_penalty",
    "seed",
}


def add_deadline_completions(app: FastAPI) -> None:
    """``POST /coderank/completion``: ``/v1/completions`` (not streamed) plus ``deadline``, the
    wall-clock time (``time.time()``, same machine) at which generation stops.

    The supervised model process serves on this route so that a caller that gave up (an agent's
    timeout) does not keep the model busy, without streaming every token over HTTP (which cost
    about 10% of the generation time here). It takes the server's own model lock, so requests on
    this route and on ``/v1/...`` queue behind one another.
    """
    import contextlib

    import llama_cpp
    from llama_cpp.server.app import get_llama_proxy
    from llama_cpp.server.types import CreateCompletionRequest
    from starlette.concurrency import run_in_threadpool

    class DeadlineCompletionRequest(CreateCompletionRequest):
        deadline: float

    async def completion(body: DeadlineCompletionRequest) -> Any:
        async with contextlib.asynccontextmanager(get_llama_proxy)() as proxy:
            if time.time() >= body.deadline:  # it waited for the model past its deadline
                return {"choices": [{"text": "", "finish_reason": "deadline"}], "usage": {}}
            llama = proxy(None)
            stopping = llama_cpp.StoppingCriteriaList(
                [lambda _ids, _logits: time.time() >= body.deadline]
            )
            return await run_in_threadpool(
                llama.create_completion,
                **body.model_dump(include=_COMPLETION_FIELDS),
                stopping_criteria=stopping,
            )

    # FastAPI reads the body's model from the annotation, which this module's
    # ``from __future__ import annotations`` leaves as a string naming a local class.
    completion.__annotations__ = {"body": DeadlineCompletionRequest, "return": Any}
    app.post(DEADLINE_PATH)(completion)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m coderank.agents.model_server")
    parser.add_argument("--model", required=True, help="the GGUF file")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="the Unix socket to serve on")
    where.add_argument("--port", type=int, help="or a TCP port (with --host)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when it stops")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-threads", type=int, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.parent_pid is not None:
        _die_with_parent(args.parent_pid)
    variants = load_cpu_backend()

    import llama_cpp
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    # As ``llama_cpp.Llama`` would load it: the server's own default logits_all=True computes the
    # logits of every prompt token over Gemma's 262k-word vocabulary (13% slower here).
    model = {
        "model": args.model,
        "n_ctx": args.n_ctx,
        "seed": 0,
        "verbose": False,
        "logits_all": False,
    }
    if args.n_threads:
        model["n_threads"] = args.n_threads
    # interrupt_requests would cut a streaming answer short whenever another agent's request
    # waits for the model; the three agents' requests queue instead.
    app = create_app(
        server_settings=ServerSettings(interrupt_requests=False),
        model_settings=[ModelSettings(**model)],
    )
    add_deadline_completions(app)
    info = llama_cpp.llama_print_system_info().decode().strip()
    print(f"model_server: ready; {info}; cpu variants: {variants or 'built in'}", file=sys.stderr)
    if args.socket:  # the supervised child: its output is read back only to explain a failure
        uvicorn.run(app, uds=args.socket, log_level="warning", access_log=False)
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
