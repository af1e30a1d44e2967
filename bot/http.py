"""The HTTP endpoint: ``POST /slack/events`` (commands, interactions, events) and
``GET /healthz``, served by waitress (the only module that imports it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
HTTP_THREADS = 16

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App) -> Wsgi:
    handler = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        return handler(environ, start_response)

    return wsgi


def make_server(app: App, *, host: str, port: int) -> Any:
    """A waitress server (not yet running); ``port=0`` picks a free port (``.effective_port``)."""
    from waitress.server import create_server

    return create_server(wsgi_app(app), host=host, port=port, threads=HTTP_THREADS)
