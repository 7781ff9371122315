"""JSON logs: one object per line on stdout, for the app, gunicorn's error log and its access log.

gunicorn is configured through ``logconfig_dict`` (``gunicorn_logconfig``) with
``JsonFormatter``, and its access lines come from ``AccessLogger.access``, which logs
structured fields instead of filling ``access_log_format``: that format string is not escaped,
so a quote or backslash in a header would break the JSON.

Never pass request bodies or symptom fields to a logger: they are health data. The access line
carries only the method, path (no query string), route template, status, duration, request id
and urgency.
"""

from __future__ import annotations

import datetime
import json
import logging
import logging.config
from typing import Any

from flask import g, has_request_context
from gunicorn.glogging import Logger as GunicornLogger

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is
# emitted as a field of its own.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)

ROUTE_ENVIRON_KEY = "popcheck.route"
URGENCY_ENVIRON_KEY = "popcheck.urgency"
REQUEST_ID_ENVIRON_KEY = "popcheck.request_id"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: ``ts``, ``level``, ``logger``, ``msg``, ``pid``,
    the request id when logged inside a request, ``extra=`` fields, and ``exc`` for tracebacks.

    ``json.dumps`` escapes quotes, backslashes, control characters and non-ASCII, so every
    line parses whatever text a message carries.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Serialise ``record`` to a single line of JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if has_request_context():
            request_id = g.get("request_id")
            if request_id is not None:
                entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class AccessLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger with a structured access line (``logger_class`` in the config)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one answered request with the fields an operator filters on."""
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        try:
            status_code: int | str = int(status)
        except (TypeError, ValueError):
            status_code = str(status)
        request_id = environ.get(REQUEST_ID_ENVIRON_KEY)
        if request_id is None:
            for name, value in resp.headers:
                if name.lower() == "x-request-id":
                    request_id = value
                    break
        self.access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "route": environ.get(ROUTE_ENVIRON_KEY),
                "status": status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "urgency": environ.get(URGENCY_ENVIRON_KEY),
                "bytes": getattr(resp, "sent", None),
                "remote": environ.get("REMOTE_ADDR"),
            },
        )


def gunicorn_logconfig(level: str = "INFO") -> dict[str, Any]:
    """The ``logconfig_dict`` for gunicorn: every logger to one JSON handler on stdout.

    gunicorn merges this dict shallowly into its defaults, so replacing ``handlers`` means
    ``root`` and both gunicorn loggers must be redefined here too.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
        },
    }


def configure_process_logging(level: str = "INFO") -> None:
    """Send this process's own logs (the ``popcheck serve`` supervisor) through the same
    JSON handler, so everything on stdout parses the same way."""
    logging.config.dictConfig(gunicorn_logconfig(level))
