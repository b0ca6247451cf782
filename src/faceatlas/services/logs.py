"""Log lines as text or as JSON (``FACEATLAS_LOG_FORMAT=json``), each with the id of the
request it belongs to (docs/operations.md).

One JSON object per line: ``ts`` (UTC), ``level``, ``logger``, ``message``, ``request_id``
when the line belongs to a request, the fields a caller passed as ``extra`` (the access log's
``method``, ``route``, ``status``, ``duration_ms``, ``client``) and ``exc`` for a traceback.
What FaceAtlas logs holds ids, counts and route templates: never image bytes, embeddings,
passwords or tokens (a test reads every line a served session writes).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from faceatlas.choices import LogFormat

__all__ = [
    "ACCESS_LOGGER",
    "JsonFormatter",
    "RequestIdFilter",
    "configure_logging",
    "current_request_id",
    "request_id_for",
    "set_request_id",
]

ACCESS_LOGGER = "faceatlas.access"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
_REQUEST_ID: ContextVar[str | None] = ContextVar("faceatlas_request_id", default=None)
"""The request the running code serves (each request runs in its own context)."""
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def request_id_for(given: str | None) -> str:
    """The id of a new request: the client's ``X-Request-ID`` when it is a short plain token
    (letters, digits, ``._-``), otherwise a fresh random one."""
    if given is not None and _GIVEN_ID.match(given):
        return given
    return uuid.uuid4().hex


def set_request_id(request_id: str | None) -> None:
    """Name the request the current context serves (the access middleware does this)."""
    _REQUEST_ID.set(request_id)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request being served (``None`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(log_format: LogFormat, level: str = "info") -> None:
    """Send every log record (FaceAtlas's and the web server's) to stderr, as text lines or
    as JSON lines, each with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
