"""Real local servers for tests and benchmarks, started on 127.0.0.1 and stopped afterwards."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, *, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:g} s")


@contextlib.contextmanager
def llama_server(gguf: Path, *, log_path: Path, n_threads: int = 2) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (llama-cpp-python's, started through
    ``python -m coderank.agents.model_server`` so it loads this build's CPU variant) over ``gguf``.

    Yields its base URL, e.g. ``http://127.0.0.1:PORT``.
    """
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coderank.agents.model_server",
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n-threads",
                str(n_threads),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/v1/models", timeout_s=120, proc=proc)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def child_pids(parent: int, *, command_contains: str) -> list[int]:
    """The running children of ``parent`` whose command line contains ``command_contains``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and command_contains in cmdline:
            found.append(int(entry.name))
    return found


def http_get(url: str, *, timeout_s: float = 5) -> tuple[int, str]:
    """(status, body) of a GET, HTTP errors included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def model_socket(pid: int) -> Path:
    """The Unix socket a running ``coderank.agents.model_server`` serves on (its ``--socket``)."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return Path(args[args.index(b"--socket") + 1].decode())


def wait_until_generating(socket: Path, *, tokens: int = 8, timeout_s: float = 120) -> None:
    """Return once the model server on ``socket`` has sampled ``tokens`` more tokens than when
    called: a generation is under way (no fixed sleep that a busy machine would outrun)."""
    import httpx

    from coderank.agents.model_process import INFO_PATH

    transport = httpx.HTTPTransport(uds=str(socket))
    with httpx.Client(transport=transport, base_url="http://model", timeout=10) as client:
        start = int(client.get(INFO_PATH).json()["generated"])
        deadline = time.monotonic() + timeout_s
        while int(client.get(INFO_PATH).json()["generated"]) < start + tokens:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the model generated fewer than {tokens} tokens in {timeout_s} s"
                )
            time.sleep(0.05)
