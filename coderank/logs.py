"""Logging for the long-running processes: one handler on the root logger, text or one JSON
object a line (``LOG_FORMAT``), with every secret scrubbed from every record.

:func:`setup_logging` is called by the entry point once the settings are read; importing this
module changes nothing. The comparison being handled is kept in a context variable
(:func:`comparison_context`), so each line logged meanwhile names it (``comparison_id``), in
this thread and in the threads LangGraph runs the nodes in (they copy the context).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from coderank.redaction import Redactor, one_line

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_comparison: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "coderank_comparison_id", default=None
)

# The attributes every LogRecord has: anything else on a record came from ``extra``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "comparison_id"}


@contextlib.contextmanager
def comparison_context(comparison_id: str) -> Iterator[None]:
    """Every record logged inside names ``comparison_id`` (unless its ``extra`` names one)."""
    token = _comparison.set(comparison_id)
    try:
        yield
    finally:
        _comparison.reset(token)


def current_comparison() -> str | None:
    return _comparison.get()


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the message: keep both
        return f"{record.msg} {record.args!r}"


class RedactingFilter(logging.Filter):
    """Scrubs a record before any formatter sees it: the message with its arguments, the
    exception's traceback, the stack, and every ``extra``. It also sets ``comparison_id``."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        scrub = self.redactor.scrub
        record.msg, record.args = scrub(_message(record)), None
        if record.exc_info:
            # Rendered once, scrubbed, and the exception dropped: no handler can render it again.
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for key in set(record.__dict__) - _STANDARD:
            setattr(record, key, self.redactor.scrub_value(record.__dict__[key]))
        given = record.__dict__.get("comparison_id")
        cid = given if given is not None else current_comparison()
        record.comparison_id = scrub(str(cid)) if cid is not None else None
        return True


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT`` with the message on its one line: a line break (or any control
    character) in what was logged, e.g. an endpoint's error text, cannot start a forged line.
    A traceback still follows on its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, then
    ``comparison_id``, ``exception``, ``stack`` and any ``extra`` when there are."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = record.__dict__.get("comparison_id")
        if cid is not None:
            entry["comparison_id"] = cid
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        for key in sorted(set(record.__dict__) - _STANDARD):
            entry.setdefault(key, record.__dict__[key])
        # ASCII only: U+2028 and the like stay escaped, so a line is always one record.
        return json.dumps(entry, default=str)


_INSTALLED = "_coderank_handler"


def setup_logging(
    *,
    log_format: str = "text",
    secrets: Iterable[str | None] = (),
    level: int = logging.INFO,
    stream: TextIO | None = None,
    text_format: str = TEXT_FORMAT,
) -> logging.Handler:
    """Log to ``stream`` (stderr) through one handler on the root logger, in ``log_format``
    (``text`` or ``json``), with ``secrets`` and token-shaped strings scrubbed. Called again, it
    replaces the handler it installed before. Returns the handler."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log_format {log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(text_format))
    setattr(handler, _INSTALLED, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _INSTALLED, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per call to the model process
    return handler
