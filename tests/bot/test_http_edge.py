"""The HTTP edge against the real Bolt app: oversized, unsigned, stale and malformed requests,
clicks that do not belong to their message, incomplete payloads, invisible problems, and
``/healthz``. What is refused is logged in one short line and stores nothing."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.simple_server import make_server as make_wsgiref_server

import pytest

from bot import ids, messages
from bot.http import MAX_BODY_BYTES, make_server, wsgi_app
from coderank.store import FEEDBACK, RESPONSES
from harness.running_bot import SIGNING_SECRET, RunningBot, start_bot
from harness.slack_requests import HttpResult
from harness.slack_server import SlackApiServer

CHANNEL = "C0GENERAL"
OTHER_CHANNEL = "C0OTHER"
SHORT_LINE = 200
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.fixture
def edge(
    tmp_path: Path, slack: SlackApiServer, caplog: pytest.LogCaptureFixture
) -> Iterator[RunningBot]:
    """The bot with INFO logs captured. The level is set before the app is built: Bolt's loggers
    copy the root logger's level when they are created, as they do under ``python -m bot``."""
    caplog.set_level(logging.INFO)
    running = start_bot(tmp_path, slack)
    yield running
    running.stop()


def sign(body: bytes, timestamp: str) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def post_bytes(url: str, body: bytes, *, signed: bool, timestamp: str | None = None) -> HttpResult:
    """POST raw bytes to ``/slack/events``, signed as Slack does or with a wrong signature."""
    ts = timestamp or str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(body, ts) if signed else "v0=" + "0" * 64,
    }
    request = urllib.request.Request(
        f"{url}/slack/events", data=body, headers=headers, method="POST"
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return HttpResult(response.status, response.read().decode(), time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, exc.read().decode(), time.monotonic() - started)


def status_line(url: str, head: bytes) -> bytes:
    """Send only a request's head (no body) and return the response's status line: a server
    that waited for the body would time out instead."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(head)
        return conn.recv(200).split(b"\r\n")[0]


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured log record, as it would be written (message and any traceback)."""
    lines = []
    for record in caplog.records:
        if record.name == "waitress.queue":  # "Task queue depth is 1" on a loaded machine
            continue
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        lines.append(text)
    return lines


def assert_one_short_line(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    (line,) = logged(caplog)
    assert "\n" not in line and len(line) < SHORT_LINE, line
    for secret in secrets:
        assert secret not in line


def edited_click(bot: RunningBot, edit: Callable[[dict[str, Any]], object], **kwargs: Any) -> str:
    """A click body (as ``SlackSender.click_body``) with its payload changed by ``edit``."""
    body = bot.send.click_body(**kwargs)
    payload = json.loads(urllib.parse.parse_qs(body)["payload"][0])
    edit(payload)
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


@contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run a waitress server on a thread; yields its URL."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


# --- size ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: 5000000\r\n",
        b"Content-Length: %d\r\n" % (MAX_BODY_BYTES + 1),
    ],
    ids=["5 MB", "one byte over"],
)
def test_an_oversized_body_is_refused_before_it_is_read(
    edge: RunningBot, caplog: pytest.LogCaptureFixture, head: bytes
) -> None:
    request = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n" + head + b"\r\n"
    assert status_line(edge.url, request) == b"HTTP/1.1 413 Request Entity Too Large"
    assert all(len(line) < SHORT_LINE for line in logged(caplog))


def test_a_chunked_body_over_the_limit_is_refused(
    edge: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    chunk = b"x" * (MAX_BODY_BYTES // 2 + 1)
    request = (
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 2
        + b"0\r\n\r\n"
    )
    assert status_line(edge.url, request) == b"HTTP/1.1 413 Request Entity Too Large"
    assert all(len(line) < SHORT_LINE for line in logged(caplog))


def test_a_body_at_the_limit_reaches_the_signature_check(
    edge: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    assert post_bytes(edge.url, b"a" * MAX_BODY_BYTES, signed=False).status == 401
    assert_one_short_line(caplog, "aaaa")


def test_the_wsgi_app_refuses_an_oversized_body_on_any_server(
    edge: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind a server without a body limit of its own (wsgiref), the WSGI app answers 413 from
    the declared length without reading the body."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server: WSGIServer = make_wsgiref_server(
        "127.0.0.1", 0, wsgi_app(edge.app), handler_class=Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        head = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 5000000\r\n\r\n"
        url = f"http://127.0.0.1:{server.server_port}"
        assert status_line(url, head) == b"HTTP/1.0 413 Request Entity Too Large"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert_one_short_line(caplog)


# --- unauthenticated requests ------------------------------------------------------------------


def test_a_forged_log_line_in_an_unsigned_body_is_not_logged(
    edge: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"text=hi\n2030-01-01 00:00:00,000 CRITICAL bot: forged entry"
    assert post_bytes(edge.url, body, signed=False).status == 401
    assert_one_short_line(caplog, "CRITICAL", "forged", "text=hi", "v0=")


def test_a_stale_request_is_refused_without_logging_what_it_carries(
    edge: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    body = edge.send.command_body("Write secret_problem()", user="U0MALLORY", channel="C0SECRET")
    response_url = urllib.parse.parse_qs(body)["response_url"][0]
    stale = int(time.time()) - 6 * 60
    assert edge.send.post(body, timestamp=stale).status == 401
    assert_one_short_line(
        caplog, response_url, "U0MALLORY", "C0SECRET", "secret_problem", "verification-token"
    )
    assert edge.slack.calls_of("chat.postMessage") == []


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize(
    ("body", "timestamp"),
    [
        (b"payload=\xff\xfe\x00bad", None),
        (b"payload=%7Bnot+json", None),
        (b"payload=%5B1%2C2%5D", None),
        (b'{"type": "block_actions", "user": "U0BOB"}', None),
        (b"payload=" + b"%5B" * 50_000, None),
        (b"command=%2Fcoderank&text=hi", "not-a-number"),
    ],
    ids=["not UTF-8", "invalid JSON", "a JSON list", "a string for a dict", "deep", "timestamp"],
)
def test_a_malformed_request_gets_a_4xx_and_one_short_line(
    edge: RunningBot,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    timestamp: str | None,
    signed: bool,
) -> None:
    result = post_bytes(edge.url, body, signed=signed, timestamp=timestamp)
    assert result.status in (400, 401), result
    assert_one_short_line(caplog, "Traceback", "bad", "not json", "U0BOB", "v0=")
    assert edge.slack.calls_of("chat.postMessage") == [] and edge.slack.responses == []


class _Listener(BaseHTTPRequestHandler):
    """Records every request it is sent: a ``response_url`` an attacker chose."""

    def do_POST(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def listener() -> Iterator[tuple[str, list[str]]]:
    """A server on another loopback port: its URL and the paths POSTed to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("1" * 4_400, None),  # int() refuses more than 4,300 digits
        (None, "v0=\u00e9" + "0" * 63),  # hmac.compare_digest refuses a non-ASCII str
        (None, "v0=" + "0" * 64 + "\u00ff" * 10),
        ("\u00b9\u00b2\u00b3", None),  # str.isdigit(), but not ASCII digits
        (" 1", None),
        ("", ""),
    ],
    ids=[
        "4,400 digits",
        "non-ASCII signature",
        "long non-ASCII signature",
        "superscript digits",
        "a space",
        "empty",
    ],
)
def test_a_malformed_signature_header_is_a_401_and_nothing_is_posted_to_its_response_url(
    edge: RunningBot,
    caplog: pytest.LogCaptureFixture,
    timestamp: str | None,
    signature: str | None,
) -> None:
    with listener() as (url, seen):
        body = edge.send.command_body("Write f()", user="U0MALLORY")
        fields = urllib.parse.parse_qs(body)
        fields["response_url"] = [f"{url}/internal/admin/reset?confirm=yes"]
        body = urllib.parse.urlencode({k: v[0] for k, v in fields.items()})
        ts = timestamp if timestamp is not None else str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature if signature is not None else sign(body.encode(), ts),
        }
        request = urllib.request.Request(
            f"{edge.url}/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401
        assert seen == []  # the error handler, had it run, posts before the 401 is sent
    assert_one_short_line(caplog, "Traceback", "U0MALLORY", "admin", "v0=")
    assert edge.slack.calls_of("chat.postMessage") == [] and edge.slack.responses == []


# --- clicks must belong to their message -----------------------------------------------------


def two_comparisons(bot: RunningBot) -> tuple[tuple[str, str], tuple[str, str]]:
    """(comparison id, ts) of one comparison in CHANNEL and one in OTHER_CHANNEL."""
    bot.send.command("Write f")
    first, first_ts, _ = bot.vote_message(CHANNEL)
    bot.send.command("Write g", channel=OTHER_CHANNEL)
    second, second_ts, _ = bot.vote_message(OTHER_CHANNEL)
    return (first, first_ts), (second, second_ts)


@pytest.mark.parametrize("action_id", [ids.VOTE_A, ids.CLOSE_VOTING, ids.SHOW_FULL_A])
@pytest.mark.parametrize("tampered", ["another comparison's id", "another message"])
def test_a_click_that_does_not_belong_to_its_message_is_refused(
    edge: RunningBot, action_id: str, tampered: str
) -> None:
    (first, first_ts), (second, _) = two_comparisons(edge)
    value, ts = (second, first_ts) if tampered == "another comparison's id" else (first, "1.0")
    before = copy.deepcopy(edge.slack.messages[(CHANNEL, first_ts)])
    edge.send.click(
        action_id, value, user="U0ALICE", channel=CHANNEL, message_ts=ts, response_name="t"
    )
    (refusal,) = edge.slack.wait_for(lambda: edge.slack.responses_to("t"))
    assert refusal["text"] == messages.NOT_THIS_MESSAGE
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert edge.core.store.count(FEEDBACK) == 0
    for cid in (first, second):
        comparison = edge.core.comparisons.get(cid)
        assert comparison.votes == {} and not comparison.closed
    assert edge.slack.messages[(CHANNEL, first_ts)] == before
    assert edge.slack.calls_of("views.open") == []


def test_a_slack_click_on_a_comparison_started_on_the_command_line_is_refused(
    edge: RunningBot,
) -> None:
    edge.send.command("Write f")
    _, ts, _ = edge.vote_message()
    cli = edge.core.comparisons.start("Write h", requester="cli", source="cli")
    cid = cli.comparison_id
    for action_id, name in ((ids.VOTE_B, "vote"), (ids.CLOSE_VOTING, "close")):
        edge.send.click(
            action_id, cid, user="U0ADMIN", channel=CHANNEL, message_ts=ts, response_name=name
        )
        (refusal,) = edge.slack.wait_for(lambda n=name: edge.slack.responses_to(n))
        assert refusal["text"] == messages.NOT_THIS_MESSAGE
    comparison = edge.core.comparisons.get(cid)
    assert comparison.votes == {} and not comparison.closed
    assert edge.core.store.count(FEEDBACK) == 0


# --- incomplete payloads ---------------------------------------------------------------------


def _drop(key: str) -> Callable[[dict[str, Any]], object]:
    return lambda payload: payload.pop(key)


def _set_action(key: str, value: Any) -> Callable[[dict[str, Any]], object]:
    return lambda payload: payload["actions"][0].update({key: value})


@pytest.mark.parametrize(
    "edit",
    [
        _drop("container"),
        _drop("user"),
        _set_action("value", 5),
        lambda payload: payload.update(actions=[]),
        lambda payload: payload.update(actions="coderank_vote_a"),
    ],
    ids=["no container", "no user", "a number as value", "no actions", "a string as actions"],
)
def test_an_incomplete_click_is_answered_at_once_and_stores_nothing(
    edge: RunningBot, edit: Callable[[dict[str, Any]], object]
) -> None:
    edge.send.command("Write f")
    cid, ts, message = edge.vote_message()
    before = copy.deepcopy(message)
    body = edited_click(
        edge,
        edit,
        action_id=ids.VOTE_A,
        value=cid,
        user="U0BOB",
        channel=CHANNEL,
        message_ts=ts,
        response_name="bad",
    )
    result = edge.send.post(body)
    assert result.status == 200 and result.seconds < 1
    # Answered before the ack returned, and nothing recorded.
    (answer,) = edge.slack.responses_to("bad")
    assert answer["text"].startswith("Sorry, I couldn't read this click")
    assert answer["response_type"] == "ephemeral"
    assert edge.core.store.count(FEEDBACK) == 0
    assert edge.core.comparisons.get(cid).votes == {}
    assert edge.slack.messages[(CHANNEL, ts)] == before


def test_an_incomplete_click_without_a_response_url_gets_400(edge: RunningBot) -> None:
    edge.send.command("Write f")
    cid, ts, _ = edge.vote_message()

    def strip(payload: dict[str, Any]) -> None:
        del payload["container"], payload["response_url"]

    body = edited_click(
        edge, strip, action_id=ids.VOTE_A, value=cid, user="U0BOB", channel=CHANNEL, message_ts=ts
    )
    assert edge.send.post(body).status == 400
    assert edge.core.store.count(FEEDBACK) == 0
    assert edge.core.comparisons.get(cid).votes == {}


def test_a_command_without_a_trigger_id_is_answered_and_starts_nothing(edge: RunningBot) -> None:
    fields = dict(urllib.parse.parse_qsl(edge.send.command_body("Write f")))
    del fields["trigger_id"]
    result = edge.send.post(urllib.parse.urlencode(fields))
    assert result.status == 200 and result.seconds < 1
    (answer,) = edge.slack.responses
    assert answer["text"].startswith("Sorry, I couldn't read this command")
    assert edge.slack.calls_of("chat.postMessage") == []


# --- action ids and the request ledger -------------------------------------------------------


def test_an_action_id_with_a_trailing_newline_is_not_handled_and_holds_no_claim(
    edge: RunningBot,
) -> None:
    edge.send.command("Write f")
    cid, ts, _ = edge.vote_message()
    click = {"user": "U0BOB", "channel": CHANNEL, "message_ts": ts, "action_ts": "1700000001.1"}
    edge.send.click(ids.VOTE_A + "\n", cid, response_name="newline", **click)
    (refusal,) = edge.slack.wait_for(lambda: edge.slack.responses_to("newline"))
    assert "nothing was recorded" in refusal["text"]
    assert edge.core.store.count(FEEDBACK) == 0
    # The same click (user and action_ts) with the real id is taken: no claim was left behind.
    edge.send.click(ids.VOTE_A, cid, response_name="real", **click)
    (confirmation,) = edge.slack.wait_for(lambda: edge.slack.responses_to("real"))
    assert confirmation["text"].startswith("You voted A")
    assert edge.core.comparisons.get(cid).votes == {"U0BOB": "A"}


# --- problems --------------------------------------------------------------------------------


def test_an_invisible_problem_is_empty_and_costs_no_model_call(edge: RunningBot) -> None:
    acked = edge.send.command("\u200b\u2060\ufeff\u200d \u2063")
    assert acked.status == 200 and "the problem is empty" in acked.body
    assert edge.slack.calls_of("chat.postMessage") == []
    assert edge.core.store.count(RESPONSES) == 0


def test_bidirectional_controls_do_not_reach_the_channel(edge: RunningBot) -> None:
    edge.send.command("Write f\u202e)x(esrever\u202c and \u2067g\u2069")
    (posted,) = edge.slack.wait_for(lambda: edge.slack.calls_of("chat.postMessage"))
    cid, _, message = edge.vote_message()
    for shown in (posted.params, message):
        assert not set(json.dumps(shown, ensure_ascii=False)) & BIDI_CONTROLS
    assert edge.core.comparisons.get(cid).problem == "Write f)x(esrever and g"


# --- /healthz --------------------------------------------------------------------------------


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_healthz_answers_what_the_health_check_reports(edge: RunningBot) -> None:
    assert get(edge.url) == (200, "ok\n")  # no health check given
    report = [(True, "")]
    server = make_server(edge.app, host="127.0.0.1", port=0, health=lambda: report[0])
    with serving(server) as url:
        assert get(url) == (200, "ok\n")
        report[0] = (True, "model warm")
        assert get(url) == (200, "ok: model warm\n")
        report[0] = (False, "model server exited")
        assert get(url) == (503, "unhealthy: model server exited\n")


def test_in_socket_mode_the_probes_are_served_and_slack_events_are_not(edge: RunningBot) -> None:
    """``python -m bot`` with SLACK_APP_TOKEN serves only the probes on PORT, for the image's
    HEALTHCHECK and a scraper; Slack's events come over the socket."""
    server = make_server(
        None, host="127.0.0.1", port=0, health=lambda: (True, ""), metrics=edge.core.metrics
    )
    with serving(server) as url:
        assert get(url) == (200, "ok\n")
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            assert b"coderank_comparisons_started_total" in response.read()
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as response:
            assert response.status == 200
        request = urllib.request.Request(f"{url}/slack/events", data=b"token=x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 404
        assert "Socket Mode" in refused.value.read().decode()
