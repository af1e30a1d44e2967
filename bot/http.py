"""The HTTP endpoint: ``POST /slack/events`` (commands, interactions, events), and for probes
and scrapers ``GET /healthz`` (liveness), ``GET /readyz`` (readiness) and ``GET /metrics``
(Prometheus), served by waitress (the only module that imports it).

Before Bolt sees a request, its body is read with a size limit and parsed; a body that is too
large (413) or cannot be parsed (400) is refused here, with one short log line and nothing of the
body. Bolt then checks the signature (401 otherwise; see :mod:`bot.middleware`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.error import BoltError

from coderank.metrics import Metrics
from coderank.readiness import Readiness

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
HTTP_THREADS = 16
# Slack's payloads are a few kilobytes (a problem is at most 4,000 characters); anything near
# this is not from Slack and is refused before it is read.
MAX_BODY_BYTES = 1024 * 1024

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Health = Callable[[], tuple[bool, str]]
Ready = Callable[[], Readiness]
Answer = tuple[str, str, bytes]  # status line, content type, body
TEXT = "text/plain; charset=utf-8"

# What Bolt's parsing (``BoltRequest``: JSON, form fields, context ids) raises on a body that is
# well-formed UTF-8 but not a Slack payload: invalid or deeply nested JSON, a list or a number
# where an object is expected, a string where a dict is expected.
_UNPARSABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


class _Refused(Exception):
    """A request answered by the HTTP layer itself; ``reason`` is logged, never the body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read only if it is at most ``MAX_BODY_BYTES``."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise _Refused(400, "an invalid Content-Length")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise _Refused(413, f"a body of {length:,} bytes")
    elif environ.get("wsgi.input_terminated"):
        length = MAX_BODY_BYTES + 1  # no length given: read to the end, one byte past the limit
    else:
        return b""  # PEP 3333: without a Content-Length there is nothing to read
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    if len(body) > MAX_BODY_BYTES:
        raise _Refused(413, f"a body over {MAX_BODY_BYTES:,} bytes")
    return body


def _bolt_request(request: WsgiHttpRequest) -> BoltRequest:
    body = _read_body(request.environ)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(400, f"a body of {len(body):,} bytes that is not UTF-8") from exc
    try:
        return BoltRequest(body=text, query=request.query_string, headers=request.get_headers())
    except (*_UNPARSABLE, BoltError) as exc:
        raise _Refused(400, f"a body Bolt cannot parse ({type(exc).__name__})") from exc


class _SlackEvents(SlackRequestHandler):
    """Bolt's WSGI adapter, with the body read under a size limit and parse errors answered."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = _bolt_request(request)
        except _Refused as refused:
            log.info("refused a request to %s: %s", self.path, refused.reason)
            return BoltResponse(status=refused.status, body=f"{refused.reason}\n")
        return self.app.dispatch(bolt_request)


def _health_response(health: Health | None) -> Answer:
    ok, detail = (True, "") if health is None else health()
    if not ok:
        return "503 Service Unavailable", TEXT, f"unhealthy: {detail}\n".encode()
    return "200 OK", TEXT, (f"ok: {detail}\n" if detail else "ok\n").encode()


def _ready_response(ready: Ready | None) -> Answer:
    report = ready() if ready is not None else Readiness(())
    status = "200 OK" if report.ready else "503 Service Unavailable"
    return status, "application/json", (json.dumps(report.to_dict()) + "\n").encode()


def _metrics_response(metrics: Metrics | None) -> Answer:
    if metrics is None:
        return "404 Not Found", TEXT, b"no metrics in this process\n"
    body, content_type = metrics.render()
    return "200 OK", content_type, body


def wsgi_app(
    app: App | None,
    *,
    health: Health | None = None,
    ready: Ready | None = None,
    metrics: Metrics | None = None,
) -> Wsgi:
    """The WSGI application: ``POST /slack/events`` for Bolt; ``GET /healthz``, ``/readyz`` and
    ``/metrics`` for probes and scrapers.

    Args:
        app: The Bolt app; ``None`` in Socket Mode, where only the probes are served (events
            arrive over the socket, and ``/slack/events`` answers 404).
        health: Reports ``(healthy, detail)`` for ``/healthz``: 200 ``ok`` (``ok: detail``) or
            503 ``unhealthy: detail``. Without it, ``/healthz`` always answers ``ok``.
        ready: The readiness checks for ``/readyz``: 200 when every check passes, else 503; the
            body is ``{"ready": ..., "checks": {name: "ok" or why not}}``. Without it, 200.
        metrics: What ``/metrics`` serves (404 without it).
    """
    handler = _SlackEvents(app, path=EVENTS_PATH) if app is not None else _socket_mode
    probes: dict[str, Callable[[], Answer]] = {
        HEALTH_PATH: lambda: _health_response(health),
        READY_PATH: lambda: _ready_response(ready),
        METRICS_PATH: lambda: _metrics_response(metrics),
    }

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        probe = probes.get(environ.get("PATH_INFO") or "")
        if probe is not None and environ.get("REQUEST_METHOD") == "GET":
            status, content_type, body = probe()
            start_response(
                status, [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            )
            return [body]
        return handler(environ, start_response)

    return wsgi


def _socket_mode(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = b"not found: in Socket Mode, Slack's events arrive over the socket\n"
    start_response("404 Not Found", [("Content-Type", TEXT), ("Content-Length", str(len(body)))])
    return [body]


def make_server(
    app: App | None,
    *,
    host: str,
    port: int,
    health: Health | None = None,
    ready: Ready | None = None,
    metrics: Metrics | None = None,
) -> Any:
    """A waitress server (not yet running); ``port=0`` picks a free port (``.effective_port``).

    Waitress itself answers 413 to a body over ``MAX_BODY_BYTES`` (declared, or chunked) without
    reading it; ``app`` (``None``: the probes only), ``health``, ``ready`` and ``metrics`` are as
    in :func:`wsgi_app`.
    """
    from waitress.server import create_server

    return create_server(
        wsgi_app(app, health=health, ready=ready, metrics=metrics),
        host=host,
        port=port,
        threads=HTTP_THREADS,
        # waitress refuses a body of this size or more
        max_request_body_size=MAX_BODY_BYTES + 1,
    )
