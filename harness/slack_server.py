"""A Slack Web API test server on 127.0.0.1: answers the methods the bot calls, records every
call (and every ``response_url`` post) so tests can assert what was posted and updated.

File uploads follow ``files_upload_v2``: ``files.getUploadURLExternal`` hands out an upload URL on
this server, the bytes are POSTed there, and ``files.completeUploadExternal`` shares them; each
file ends up in ``uploads``."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.slack_streams import METHODS as STREAM_METHODS
from harness.slack_streams import StreamRecorder

BOT_USER = "UCODERANK"


def _invalid(message: str) -> dict[str, Any]:
    """Slack's answer to a call missing a required argument or with a wrong one."""
    return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [message]}}


@dataclass
class Call:
    """One Web API call: when it came (``time.monotonic()``) and the HTTP status it was answered
    with (429 for a call :meth:`SlackApiServer.rate_limit` refused)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Upload:
    """A file announced with ``files.getUploadURLExternal``; ``content`` once uploaded, and
    where it was shared once ``files.completeUploadExternal`` was called."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class SlackApiServer:
    """Start with :meth:`start`; ``api_url`` is what ``SLACK_API_URL`` should be."""

    token: str = "xoxb-test-token"
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    not_in_channels: set[str] = field(default_factory=set)
    uploads: dict[str, Upload] = field(default_factory=dict)
    # chat.startStream / appendStream / stopStream: ``streams.streams`` by (channel, ts)
    streams: StreamRecorder = field(default_factory=StreamRecorder)
    # user id -> every Home view published for them with ``views.publish``, oldest first
    home_views: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _rate_limits: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Any = field(default_factory=lambda: itertools.count(1))

    def start(self) -> SlackApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/respond/"):
                    server._record_response(self.path, body)
                    return self._send(200, {"ok": True})
                if self.path.startswith("/upload/"):
                    status, text = server._receive_upload(
                        self.path, self.headers.get("Content-Type", ""), body
                    )
                    return self._send_text(status, text)
                method = self.path.removeprefix("/api/")
                params = server._parse(self.headers.get("Content-Type", ""), body)
                status, payload, headers = server._answer(
                    method, params, self.headers.get("Authorization", "")
                )
                self._send(status, payload, headers)

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_text(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def upload_url(self, file_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/upload/{file_id}"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def rate_limit(self, method: str, *, times: int, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        self._rate_limits[method] = [times, retry_after]

    # --- what the tests read -------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def responses_to(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.responses if r["_name"] == name]

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The Home view last published for ``user``, or None."""
        with self._lock:
            views = self.home_views.get(user)
            return views[-1] if views else None

    def wait_for(self, check: Callable[[], Any], *, timeout_s: float = 20) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {check}")

    # --- the server's side ---------------------------------------------------------------

    @staticmethod
    def _parse(content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        if "json" in content_type:
            return dict(json.loads(body))
        params: dict[str, Any] = dict(urllib.parse.parse_qsl(body.decode()))
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    @staticmethod
    def _file_bytes(content_type: str, body: bytes) -> bytes:
        """The uploaded file: the raw body (what ``files_upload_v2`` sends), or the first file
        part of a multipart/form-data body (what browsers and ``curl -F`` send)."""
        if not content_type.startswith("multipart/form-data"):
            return body
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            if (
                part.get_filename() is not None
                or part.get_param("name", header="content-disposition") == "file"
            ):
                payload = part.get_payload(decode=True)
                return payload if isinstance(payload, bytes) else b""
        return b""

    def _receive_upload(self, path: str, content_type: str, body: bytes) -> tuple[int, str]:
        file_id = path.removeprefix("/upload/")
        with self._lock:
            upload = self.uploads.get(file_id)
            if upload is None:
                return 404, "Not Found"
            upload.content = self._file_bytes(content_type, body)
            return 200, f"OK - {len(upload.content)}"

    def _record_response(self, path: str, body: bytes) -> None:
        with self._lock:
            self.responses.append({"_name": path.removeprefix("/respond/"), **json.loads(body)})

    def _answer(
        self, method: str, params: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            call = Call(method, params, time.monotonic())
            self.calls.append(call)
            limit = self._rate_limits.get(method)
            if limit and limit[0] > 0:
                limit[0] -= 1
                call.status = 429
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(limit[1])}
        if auth != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method == "auth.test":
            return (
                200,
                {
                    "ok": True,
                    "url": "https://coderank-test.slack.com/",
                    "team": "CodeRank Test",
                    "user": "coderank",
                    "team_id": "T0TEST",
                    "user_id": BOT_USER,
                    "bot_id": "B0TEST",
                },
                {},
            )
        if method == "chat.postMessage":
            channel = params["channel"]
            if channel in self.not_in_channels:
                return 200, {"ok": False, "error": "not_in_channel"}, {}
            with self._lock:
                ts = f"1700000000.{next(self._ts):06d}"
                message = {"text": params.get("text"), "blocks": params.get("blocks"), "ts": ts}
                self.messages[(channel, ts)] = message
            return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, {}
        if method == "chat.update":
            key = (params["channel"], params["ts"])
            with self._lock:
                if key not in self.messages:
                    return 200, {"ok": False, "error": "message_not_found"}, {}
                self.messages[key] = {
                    "text": params.get("text"),
                    "blocks": params.get("blocks"),
                    "ts": key[1],
                }
            return 200, {"ok": True, "channel": key[0], "ts": key[1]}, {}
        if method in STREAM_METHODS:
            with self._lock:
                return self.streams.answer(method, params)
        if method == "files.getUploadURLExternal":
            if not params.get("filename") or not str(params.get("length", "")).isdigit():
                return 200, {"ok": False, "error": "invalid_arguments"}, {}
            with self._lock:
                file_id = f"F{len(self.uploads) + 1:08d}"
                self.uploads[file_id] = Upload(file_id, params["filename"], int(params["length"]))
            return 200, {"ok": True, "upload_url": self.upload_url(file_id), "file_id": file_id}, {}
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        if method == "views.publish":
            return self._publish_view(params)
        if method == "views.open":
            return 200, {"ok": True, "view": {"id": "V1", **params.get("view", {})}}, {}
        return 200, {"ok": True}, {}

    def _publish_view(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``views.publish``: a ``user_id`` and a ``view`` of type ``home`` with 1 to 100
        blocks, as Slack requires; the view is kept in ``home_views``."""
        user, view = params.get("user_id"), params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(user, str) or not user:
            return 200, _invalid("missing required field: user_id"), {}
        if not isinstance(view, dict):
            return 200, _invalid("missing required field: view"), {}
        if view.get("type") != "home":
            return 200, _invalid("invalid `type` (views.publish takes a home view)"), {}
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not 1 <= len(blocks) <= 100:
            return 200, {"ok": False, "error": "invalid_blocks"}, {}
        with self._lock:
            published = self.home_views.setdefault(user, [])
            published.append(view)
            view_id = f"VHOME{user}"
        return 200, {"ok": True, "view": {"id": view_id, "hash": str(len(published)), **view}}, {}

    def _complete_upload(
        self, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        channel = params.get("channel_id") or params.get("channels")
        if channel in self.not_in_channels:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        shared = []
        with self._lock:
            for f in files or []:
                upload = self.uploads.get(f.get("id", ""))
                if upload is None or upload.content is None:
                    return 200, {"ok": False, "error": "file_not_found"}, {}
                upload.title = f.get("title") or upload.filename
                upload.channel = channel
                upload.thread_ts = params.get("thread_ts")
                upload.initial_comment = params.get("initial_comment")
                upload.completed = True
                shared.append(
                    {"id": upload.file_id, "title": upload.title, "name": upload.filename}
                )
        if not shared:
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        return 200, {"ok": True, "files": shared}, {}
