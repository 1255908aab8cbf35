"""Structured logs: one JSON object per line on stderr, with the request id.

Every line is ``{"time", "level", "logger", "message", "request_id"?, ...}``
plus the ``extra`` fields a caller passes (the access line's ``method``,
``path``, ``status``, ``duration_ms``, ``key_id``). The request id comes from
:data:`REQUEST_ID`, which the web layer sets for the duration of a request, so
every line logged while serving it carries the id, whichever logger wrote it.

No line ever holds a stack trace or an exception's text: a logged exception
appears as its class name (``exc_type``) only, because exception text can
quote a case document or a key. Gunicorn's own loggers use the same format
(:func:`logging_config` is handed to it as ``logconfig_dict``).

Nor does a line ever hold a key, even where the service does not choose the
text: gunicorn logs a malformed header line whole (``Invalid HTTP Header:
'Authorization Bearer adj_...'``), and a client may put a key anywhere. Every
string field of a line is passed through :func:`redact`, which blanks anything
shaped like an API key and whatever follows ``Bearer`` or ``Authorization``.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("adjudicator_request_id", default=None)

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
_KEY_LIKE = re.compile(r"adj_[A-Za-z0-9_-]{4,}")
_AFTER_BEARER = re.compile(r"(?i)(bearer)(\s*[:=]?\s*)\S+")
_AFTER_AUTHORIZATION = re.compile(r"(?i)(authorization)[^\r\n]*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with API keys and credentials after ``Bearer``/``Authorization`` blanked."""
    if "adj_" in text:
        text = _KEY_LIKE.sub("adj_" + REDACTED, text)
    lowered = text.lower()
    if "bearer" in lowered:
        text = _AFTER_BEARER.sub(r"\1\2" + REDACTED, text)
    if "authorization" in lowered:
        text = _AFTER_AUTHORIZATION.sub(r"\1: " + REDACTED, text)
    return text


class JsonFormatter(OrjsonFormatter):
    """python-json-logger's orjson formatter with our fields and no tracebacks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            **kwargs,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """The record's fields, the request id, and an exception's class name only."""
        super().add_fields(log_data, record, message_dict)
        log_data.pop("exc_info", None)
        log_data.pop("stack_info", None)
        log_data.pop("exc_text", None)
        if record.exc_info and record.exc_info[0] is not None:
            log_data["exc_type"] = record.exc_info[0].__name__
        request_id = REQUEST_ID.get()
        if request_id is not None:
            log_data["request_id"] = request_id
        for name, value in log_data.items():
            if isinstance(value, str):
                log_data[name] = redact(value)

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        """Nothing: a traceback is never written (see the module docstring)."""
        return ""

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 (logging's name)
        """Nothing: stacks are never written."""
        return ""


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service and gunicorn: JSON lines on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "adjudicator.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # Propagate to the root's JSON handler; gunicorn's access log stays off
            # (the app writes one access line per request itself).
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }
