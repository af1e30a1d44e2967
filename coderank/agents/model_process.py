"""The embedded model in a supervised child process.

llama.cpp is native code: a segfault, an abort or an out-of-memory kill in it would end the whole
bot. So the GGUF is served by ``python -m coderank.agents.model_server`` (several requests decoded
together) on a Unix socket in a private folder, and this module starts it, checks
it with one tiny generation, notices when it dies, says why, and starts it again.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from coderank.errors import ModelUnavailableError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0
# After a crash the child is started again, waiting longer after each failure in a row.
RESTART_BACKOFF_S = (0.5, 2.0, 5.0, 15.0, 30.0)
SELF_CHECK_PROMPT = "def add(a, b):\n"
# The child's routes (coderank.agents.model_server).
INFO_PATH = "/coderank/info"
DEADLINE_PATH = "/coderank/completion"
_LOG_TAIL_LINES = 12

REBUILD_HINT = (
    "llama-cpp-python is probably built for another CPU: rebuild it portably with "
    "`make install` (scripts/install_llama_cpp.sh)"
)


def describe_exit(returncode: int) -> str:
    """How a child ended, in words: ``killed by SIGKILL``, ``crashed with SIGSEGV``, ..."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if name in ("SIGSEGV", "SIGILL", "SIGBUS", "SIGFPE", "SIGABRT"):
        return f"crashed with {name}"
    return f"was stopped by {name}"


def start_failure(returncode: int, log_tail: str, model_path: str) -> str:
    """One line: why the model process could not start, and what to do about it."""
    how = describe_exit(returncode)
    last = next((ln.strip() for ln in reversed(log_tail.splitlines()) if ln.strip()), "")
    if "Failed to load model" in log_tail or "failed to load model" in log_tail:
        return (
            f"llama.cpp cannot load the GGUF file {model_path} ({last}): check LOCAL_GGUF_PATH "
            "points to a complete .gguf file, or unset it to use the packaged model (LOCAL_MODEL)"
        )
    if how.startswith("crashed"):
        return (
            f"the llama.cpp model process {how} while loading or first generating: {REBUILD_HINT}"
        )
    if "SIGKILL" in how:
        return (
            f"the llama.cpp model process {how} (often the out-of-memory killer): free memory or "
            "use a smaller model (LOCAL_GGUF_PATH)"
        )
    return f"the llama.cpp model process {how}" + (f": {last}" if last else "")


@dataclass(frozen=True)
class ModelHealth:
    """``ok`` is false when the model process is down and could not be started again."""

    ok: bool
    state: str  # "not started", "starting", "ready", "restarting", "failed", "closed"
    detail: str = ""
    pid: int | None = None
    restarts: int = 0


class ModelProcess:
    """One supervised model server child for one GGUF file.

    ``ensure_ready()`` starts it (once) and runs the self-check; requests then go to
    :attr:`socket_path`. When the child dies unexpectedly, a watcher thread logs why, counts it in
    :attr:`incarnation` and starts a new one; a request that was in flight fails with the reason
    (:meth:`crash_since`).
    """

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.start_timeout_s = start_timeout_s
        # A private folder (0700) for the socket and the child's output, made at first start.
        self._dir: Path | None = None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._proc: subprocess.Popen[bytes] | None = None
        self._state = "not started"
        self._detail = ""
        self._restarts = 0
        self._closing = False
        # Bumped each time a child dies; the exit of child n is _exits[n].
        self.incarnation = 0
        # Whether the GGUF has a chat template (read from the child when it starts).
        self.chat_template = False
        self._exits: dict[int, str] = {}

    # --- public -------------------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Start the child and self-check it unless it is running; wait while it (re)starts.

        Raises:
            ModelUnavailableError: naming the cause and the fix, if it cannot start.
        """
        with self._lock:
            while True:
                if self._closing:
                    raise ModelUnavailableError("the embedded model is shutting down")
                if self._state == "ready":
                    return
                if self._state in ("not started", "failed"):
                    self._state = "starting"
                    break
                self._changed.wait(timeout=1.0)  # another thread is starting it
        self._start()

    def health(self) -> ModelHealth:
        with self._lock:
            return ModelHealth(
                ok=self._state != "failed",
                state=self._state,
                detail=self._detail,
                pid=self._proc.pid if self._proc is not None else None,
                restarts=self._restarts,
            )

    def runtime_info(self) -> str:
        """What the running child reported at start: llama.cpp's CPU features and variants."""
        try:
            with open(self._log_path, errors="replace") as out:
                for line in out:
                    if line.startswith("model_server: ready; "):
                        return line.removeprefix("model_server: ready; ").strip()
        except OSError:
            pass
        return ""

    def crash_since(self, incarnation: int, *, wait_s: float = 3.0) -> str | None:
        """How the child serving ``incarnation`` ended, or ``None`` if it did not end.

        A request that lost its connection calls this; the watcher thread may need a moment to
        reap the child, so it waits up to ``wait_s``.
        """
        deadline = time.monotonic() + wait_s
        with self._lock:
            while incarnation not in self._exits:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(timeout=min(remaining, 0.1))
            return self._exits[incarnation]

    def close(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL) and remove its folder."""
        with self._lock:
            self._closing = True
            self._state = "closed"
            proc = self._proc
            self._changed.notify_all()
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    # --- starting -----------------------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return self._folder() / "model.sock"

    @property
    def _log_path(self) -> Path:
        return self._folder() / "model.log"

    def _folder(self) -> Path:
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="coderank-model-"))
            return self._dir

    def _command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "coderank.agents.model_server",
            "--model",
            str(self.model_path),
            "--socket",
            str(self.socket_path),
            "--parent-pid",
            str(os.getpid()),
            "--n-ctx",
            str(self.n_ctx),
        ]
        if self.n_threads:
            command += ["--n-threads", str(self.n_threads)]
        return command

    def _set(self, state: str, detail: str = "") -> None:
        with self._lock:
            self._state, self._detail = state, detail
            self._changed.notify_all()

    def _start(self) -> None:
        """Start a child and wait for its self-check (the state is "starting" or "restarting").

        Raises:
            ModelUnavailableError: the state is then "failed", with the cause.
        """
        self.socket_path.unlink(missing_ok=True)
        started = time.monotonic()
        with open(self._log_path, "wb") as out:
            # Its own session: a Ctrl-C in the terminal reaches only the parent, which stops it.
            proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._lock:
            self._proc = proc
        try:
            self._wait_until_serving(proc)
            self._self_check(proc)
        except ModelUnavailableError as exc:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            self._set("failed", str(exc))
            raise
        threading.Thread(target=self._watch, args=(proc,), name="model-watch", daemon=True).start()
        self._set("ready")
        log.info(
            "embedded model ready in %.1f s (pid %d, %s)",
            time.monotonic() - started,
            proc.pid,
            self.model_path.name,
        )

    def _failure(self, proc: subprocess.Popen[bytes], what: str) -> ModelUnavailableError:
        code = proc.wait()
        return ModelUnavailableError(
            f"the embedded model cannot start ({what}): "
            + start_failure(code, self._log_tail(), str(self.model_path))
        )

    def _wait_until_serving(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise self._failure(proc, "loading the model")
            if self.socket_path.exists():
                try:
                    with self.client(timeout=5.0) as client:
                        response = client.get(INFO_PATH)
                    if response.status_code == 200:
                        self.chat_template = bool(response.json().get("chat_template"))
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise ModelUnavailableError(
            f"the embedded model did not start within {self.start_timeout_s:g} s "
            f"({self.model_path.name})"
        )

    def _self_check(self, proc: subprocess.Popen[bytes]) -> None:
        """One tiny generation: a runtime that crashes on this CPU fails here, not on a user."""
        try:
            with self.client(timeout=60.0) as client:
                response = client.post(
                    DEADLINE_PATH,
                    json={"prompt": SELF_CHECK_PROMPT, "max_tokens": 2, "temperature": 0.0},
                )
        except httpx.TransportError:
            raise self._failure(proc, "its first generation") from None
        if response.status_code != 200 or "choices" not in response.json():
            raise ModelUnavailableError(
                f"the embedded model answered its self-check with HTTP {response.status_code}"
            )

    def client(self, *, timeout: float | httpx.Timeout) -> httpx.Client:
        """An HTTP client to the child's socket (requests go to ``http://model/...``)."""
        return httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.socket_path)),
            base_url="http://model",
            timeout=timeout,
        )

    def _log_tail(self) -> str:
        try:
            lines = self._log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    # --- watching -----------------------------------------------------------------------------

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        with self._lock:
            if self._closing or proc is not self._proc:
                return
            how = describe_exit(code)
            self._exits[self.incarnation] = how
            self.incarnation += 1
            self._restarts += 1
            self._state, self._detail = "restarting", f"the model process {how}"
            self._changed.notify_all()
        log.error(
            "the embedded model process (pid %d) %s; starting it again. Its last output:\n%s",
            proc.pid,
            how,
            self._log_tail() or "(none)",
        )
        for attempt, pause in enumerate((0.0, *RESTART_BACKOFF_S), start=1):
            time.sleep(pause)
            if self._closing:
                return
            try:
                self._start()
                return
            except ModelUnavailableError as exc:
                log.error("starting the embedded model again failed (try %d): %s", attempt, exc)
                if attempt <= len(RESTART_BACKOFF_S):
                    self._set("restarting", str(exc))


_processes: dict[tuple[str, int, int | None], ModelProcess] = {}
_processes_lock = threading.Lock()


def model_process(
    model_path: Path, *, n_ctx: int = 2048, n_threads: int | None = None
) -> ModelProcess:
    """The process's one supervised model server for ``model_path`` (stopped at exit).

    ``n_threads``: llama.cpp's decoding threads (None: every core this process may run on).
    """
    key = (str(Path(model_path).resolve()), n_ctx, n_threads)
    with _processes_lock:
        if key not in _processes:
            if not _processes:
                atexit.register(close_model_processes)
            _processes[key] = ModelProcess(Path(key[0]), n_ctx=n_ctx, n_threads=n_threads)
        return _processes[key]


def close_model_processes() -> None:
    """Stop every model server this process started."""
    with _processes_lock:
        processes = list(_processes.values())
        _processes.clear()
    for process in processes:
        process.close()
