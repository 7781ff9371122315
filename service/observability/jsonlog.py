"""JSON logs: one object per line on stdout, for the app, gunicorn's error log and its access log.

gunicorn is configured through ``logconfig_dict`` (``gunicorn_logconfig``) with
``JsonFormatter``, and its access lines come from ``AccessLogger.access``, which logs
structured fields instead of filling ``access_log_format``: that format string is not escaped,
so a quote or backslash in a header would break the JSON.

Never pass request bodies or symptom fields to a logger: they are health data. The access line
carries only the method, path (no query string), route template, status, duration, request id
and urgency; ``RequestDataFilter`` takes the request line, query string and headers out of
gunicorn's own error lines.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import time
from collections.abc import Mapping
from typing import Any

import orjson
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


class _Clock:
    """``ts`` values: UTC ISO 8601 to the millisecond (``2026-12-05T01:20:42.123+00:00``).

    The date and time up to the second are formatted once per second and kept: formatting
    them through ``datetime`` for every line cost about 2 µs, and the access log writes a line
    per request. One instance per process; a race between threads only formats a second twice.
    """

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, created: float) -> str:
        # Rounded to the microsecond first, then cut to the millisecond, as
        # ``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`` does.
        second = int(created)
        micros = round((created - second) * 1_000_000)
        if micros >= 1_000_000:
            second += 1
            micros -= 1_000_000
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{micros // 1000:03d}+00:00"


_timestamp = _Clock()


def _dumps(entry: dict[str, Any]) -> str:
    """One log line's JSON, with no newline in it whatever the values hold.

    orjson escapes quotes, backslashes and control characters as the standard library does,
    in a fifth of the time, and writes non-ASCII as UTF-8. It refuses a lone surrogate (which
    ``str`` can hold and UTF-8 cannot); the standard library, which escapes it, writes those.
    """
    try:
        return orjson.dumps(entry, default=str).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(entry, default=str)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: ``ts``, ``level``, ``logger``, ``msg``, ``pid``,
    the request id when logged inside a request, ``extra=`` fields, and ``exc`` for tracebacks.

    Quotes, backslashes and control characters are escaped, so every line parses whatever
    text a message carries.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Serialise ``record`` to a single line of JSON."""
        fields: dict[str, Any] = {}
        if has_request_context():
            request_id = g.get("request_id")
            if request_id is not None:
                fields["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS:
                fields.setdefault(key, value)
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return log_line(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            record.process,
            fields,
        )


def log_line(
    created: float,
    level: str,
    logger: str,
    msg: str,
    pid: int | None,
    fields: Mapping[str, Any],
) -> str:
    """One log line: ``ts``, ``level``, ``logger``, ``msg``, ``pid``, then ``fields`` (a
    field never replaces one of the five). ``JsonFormatter`` and the access logger's
    straight write both build their lines here, so the two cannot drift apart."""
    entry: dict[str, Any] = {
        "ts": _timestamp(created),
        "level": level,
        "logger": logger,
        "msg": msg,
        "pid": pid,
    }
    for key, value in fields.items():
        entry.setdefault(key, value)
    return _dumps(entry)


class AccessLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger with a structured access line (``logger_class`` in the config).

    The line is the JSON that ``JsonFormatter`` writes for ``access_log.info("request",
    extra=...)``, and when the access logger is set up as ``gunicorn_logconfig`` sets it up
    (one plain ``StreamHandler`` with ``JsonFormatter``, no filters, not propagating) it is
    written straight to that handler's stream, under its lock. Through ``logging`` the line
    cost about 40 µs a request (a ``LogRecord``, its caller lookup, the handler chain and a
    generic formatter), as much as gunicorn's whole request parser; straight, about 9 µs.
    Any other set-up (more handlers, a filter, another formatter, a test's capture) gets the
    record through ``logging`` as before.
    """

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one answered request with the fields an operator filters on."""
        if not self.access_log_enabled:
            return
        access_log = self.access_log
        if not access_log.isEnabledFor(logging.INFO):
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
        fields = {
            "request_id": request_id,
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "route": environ.get(ROUTE_ENVIRON_KEY),
            "status": status_code,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "urgency": environ.get(URGENCY_ENVIRON_KEY),
            "bytes": getattr(resp, "sent", None),
            "remote": environ.get("REMOTE_ADDR"),
        }
        handler = _plain_json_handler(access_log)
        if handler is not None:
            # What JsonFormatter.format makes of the record below.
            line = log_line(time.time(), "INFO", access_log.name, "request", os.getpid(), fields)
            with handler.lock:  # type: ignore[union-attr]  # set by Handler.createLock
                try:
                    handler.stream.write(line + handler.terminator)
                    handler.flush()
                    return
                except Exception:  # noqa: BLE001 - logging's own error handling, below
                    pass
            # The stream failed (a closed pipe, a full disk): let logging report it its way.
        access_log.info("request", extra=fields)


def _plain_json_handler(log: logging.Logger) -> logging.StreamHandler[Any] | None:
    """``log``'s only handler when a record would reach nothing else, pass no filter and be
    written exactly as ``JsonFormatter`` writes it to a plain stream; else ``None``."""
    handlers = log.handlers
    if len(handlers) != 1 or log.propagate or log.filters:
        return None
    handler = handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler


_INVALID_REQUEST = re.compile(r"Invalid request from ip=(?P<ip>[^:\s]*): (?P<error>.*)", re.DOTALL)
# The words before the first colon or quote of gunicorn's parse errors ("Invalid HTTP request
# line: 'POST /assess?...'", "Invalid HTTP Header: '...'"): what kind of error, never the text.
_ERROR_KIND = re.compile(r"[A-Za-z][A-Za-z0-9 ()<>/.-]{0,79}")


class RequestDataFilter(logging.Filter):
    """Keeps what a client sent out of ``gunicorn.error``'s lines (``gunicorn_logconfig`` puts
    it on that logger; gunicorn.conf.py's ``logconfig_dict``).

    gunicorn logs a request its parser refuses as ``Invalid request from ip=...: <error>``,
    where the error repeats the request line (query string included), a header, or a chunk
    of the body framing, and a request that failed outside the app as ``Error handling
    request <method> <uri>``. Both are rewritten: the kind of error and the peer address
    stay, the request's text goes, and an exception's own message (which may quote it) is
    replaced by its class name.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str):
            return True
        if message.startswith("Invalid request from ip="):
            match = _INVALID_REQUEST.fullmatch(record.getMessage())
            error = match.group("error") if match else ""
            kind = _ERROR_KIND.match(error)
            record.msg = "invalid request refused by gunicorn: %s"
            record.args = ((kind.group(0).strip() if kind else "unreadable request"),)
            if match and "remote" not in record.__dict__:
                record.remote = match.group("ip")
        elif message.startswith("Error handling request"):
            record.msg = "Error handling request"
            record.args = ()
            if record.exc_info and record.exc_info[0] is not None:
                record.error = record.exc_info[0].__name__
                record.exc_info = None
                record.exc_text = None
        return True


def gunicorn_logconfig(level: str = "INFO") -> dict[str, Any]:
    """The ``logconfig_dict`` for gunicorn: every logger to one JSON handler on stdout.

    gunicorn merges this dict shallowly into its defaults, so replacing ``handlers`` means
    ``root`` and both gunicorn loggers must be redefined here too.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "filters": {"no_request_data": {"()": f"{__name__}.RequestDataFilter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {
                "level": level,
                "handlers": ["json"],
                "propagate": False,
                "filters": ["no_request_data"],
            },
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
        },
    }


def configure_process_logging(level: str = "INFO") -> None:
    """Send this process's own logs (the ``popcheck serve`` supervisor) through the same
    JSON handler, so everything on stdout parses the same way."""
    logging.config.dictConfig(gunicorn_logconfig(level))
