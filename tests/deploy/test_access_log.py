"""The access line written straight to the handler's stream (``AccessLogger``'s short path)
says exactly what the same line through ``logging`` says, and ``logging`` still gets every
set-up the short path does not know: other handlers, filters, a failing stream."""

from __future__ import annotations

import datetime
import io
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from popcheck.observability.jsonlog import AccessLogger, JsonFormatter, _timestamp


class _Response:
    status = "404 NOT FOUND"
    headers = [("X-Request-ID", "from-header")]
    sent = 123


_ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": '/nope"\\é',
    "popcheck.route": "<unmatched>",
    "popcheck.request_id": 'id"with\\quotes\x01',
    "REMOTE_ADDR": "10.0.0.7",
}


class _Subclassed(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes like its base, but is not the plain handler the short path recognises."""


def _new_log() -> logging.Logger:
    # Made in the test's body, under a name of its own: pytest's log capture adds its handler
    # to every non-propagating logger that exists when a test phase (setup, call) starts, and
    # a second handler is a set-up the short path rightly leaves to ``logging``.
    log = logging.getLogger(f"popcheck.test.access.{uuid.uuid4().hex}")
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def _logger(log: logging.Logger) -> AccessLogger:
    logger = AccessLogger.__new__(AccessLogger)  # skip gunicorn's setup: no config needed
    logger.access_log = log
    logger._access_log_enabled = True
    return logger


def _written(
    log: logging.Logger,
    handler_class: type[logging.StreamHandler[Any]] = logging.StreamHandler,
) -> str:
    """What one access line writes through a ``handler_class`` with ``JsonFormatter`` on
    ``log``: at most one line, ending in a newline."""
    stream = io.StringIO()
    handler = handler_class(stream)
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    try:
        _logger(log).access(_Response(), None, dict(_ENVIRON), timedelta(microseconds=2500))
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert text == "" or (text.endswith("\n") and text.count("\n") == 1)
    return text


def test_the_short_path_writes_what_logging_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    access_log = _new_log()
    through_logging = json.loads(_written(access_log, _Subclassed))

    def no_record(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the plain JSON handler should be written to directly")

    monkeypatch.setattr(access_log, "handle", no_record)
    straight = json.loads(_written(access_log))
    # Same fields in the same order; only the moment differs.
    assert list(straight) == list(through_logging)
    del straight["ts"], through_logging["ts"]
    assert straight == through_logging
    assert straight["request_id"] == 'id"with\\quotes\x01'
    assert straight["path"] == '/nope"\\é'
    assert straight["status"] == 404 and straight["duration_ms"] == 2.5
    assert straight["logger"] == access_log.name and straight["msg"] == "request"


def test_a_filter_on_the_logger_still_applies() -> None:
    access_log = _new_log()
    assert _written(access_log)  # the plain set-up writes the line...
    access_log.addFilter(lambda record: False)
    assert _written(access_log) == ""  # ...and a filter that refuses it is obeyed


def test_a_logger_above_info_writes_nothing() -> None:
    access_log = _new_log()
    access_log.setLevel(logging.WARNING)
    assert _written(access_log) == ""


class _BrokenStream(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("pipe closed")


def test_a_failing_stream_is_reported_by_logging_not_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    access_log = _new_log()
    handler = logging.StreamHandler(_BrokenStream())
    handler.setFormatter(JsonFormatter())
    access_log.addHandler(handler)
    _logger(access_log).access(_Response(), None, dict(_ENVIRON), timedelta(0))  # no raise
    assert "Logging error" in capsys.readouterr().err  # logging's own report of it


@given(st.floats(min_value=0, max_value=2**33, allow_nan=False))
def test_timestamps_read_as_datetime_writes_them(created: float) -> None:
    expected = datetime.datetime.fromtimestamp(created, datetime.UTC).isoformat(
        timespec="milliseconds"
    )
    assert _timestamp(created) == expected
