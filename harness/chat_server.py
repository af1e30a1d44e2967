"""An OpenAI-compatible chat server on 127.0.0.1 standing for a hosted model endpoint
(``LLM_BACKEND=hf``, ``HF_ENDPOINT_URL``): ``POST /v1/chat/completions`` answers after
``delay_s`` with a fixed Python answer (or, with ``failure`` set, with that status, content type
and body: a hostile or broken endpoint), and counts what it was asked."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = (
    "```python\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
    "    return a\n```\nIterative: O(n) time, O(1) space."
)


@dataclass
class ChatServer:
    """Start with :meth:`start`; :attr:`url` is what ``HF_ENDPOINT_URL`` should be. ``delay_s``
    may be changed while it runs."""

    delay_s: float = 0.0
    failure: tuple[int, str, bytes] | None = None
    requests: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    paths: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> ChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = json.loads(body or b"{}")
                number = server._arrived(self.path)
                try:
                    if self.path.rstrip("/") != "/v1/chat/completions":
                        return self._send(404, {"error": f"no route {self.path}"})
                    time.sleep(server.delay_s)
                    if server.failure is not None:
                        return self._send_raw(*server.failure)
                    self._send(200, _completion(number, str(request.get("model") or "fake")))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller is gone (a replica killed while it waited)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                self._send_raw(status, "application/json", json.dumps(payload).encode())

            def _send_raw(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _arrived(self, path: str) -> int:
        with self._lock:
            self.paths.add(path)
            self.requests += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return self.requests


def _completion(number: int, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-test-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "test",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"{REPLY}\n(answer {number})"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": 48, "total_tokens": 88},
    }
