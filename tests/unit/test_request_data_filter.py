"""RequestDataFilter rewrites gunicorn's error lines that would carry what a client sent."""

from __future__ import annotations

import logging
import sys

from popcheck.observability.jsonlog import JsonFormatter, RequestDataFilter


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad uri /assess?secret=1")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_a_refused_request_keeps_its_kind_and_address_only() -> None:
    record = _record("Invalid request from ip=10.1.2.3: Invalid HTTP request line: 'GET /?s=1 x y'")
    assert RequestDataFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "s=1" not in line and "GET" not in line
    assert record.getMessage() == "invalid request refused by gunicorn: Invalid HTTP request line"
    assert record.__dict__["remote"] == "10.1.2.3"


def test_an_error_handling_a_request_loses_its_uri_and_exception_text() -> None:
    record = _record("Error handling request %s %s", "POST", "/assess?secret=1", exc=True)
    assert RequestDataFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "secret" not in line
    assert record.getMessage() == "Error handling request"
    assert record.__dict__["error"] == "ValueError"


def test_other_lines_pass_unchanged() -> None:
    record = _record("Booting worker with pid: %s", 42)
    assert RequestDataFilter().filter(record)
    assert record.getMessage() == "Booting worker with pid: 42"
