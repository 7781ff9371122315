"""Body streams as gunicorn hands them to the app, reproduced in-process.

gunicorn sets ``wsgi.input_terminated``, which makes werkzeug cap ``request.stream`` at the
body limit and answer any read past it with its own 413; and gunicorn's chunked reader raises
its own exceptions (not ``OSError``) for broken framing. The test client does neither, so
these two found bugs were invisible to in-process tests until gunicorn ran the corpus.
"""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tests.hardening.corpus import DEFAULT_LIMIT, PROBLEM_JSON, TOO_LARGE


class _GunicornParseError(Exception):
    """Stands in for ``gunicorn.http.errors.InvalidChunkSize`` (a plain ``Exception``)."""


class BrokenStream(io.RawIOBase):
    """Yields ``good`` bytes, then fails the way gunicorn's chunked reader does."""

    def __init__(self, good: bytes, error: Exception) -> None:
        self._good = good
        self._error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._good:
            piece, self._good = self._good[: max(size, 1)], self._good[max(size, 1) :]
            return piece
        raise self._error


def gunicorn_like(body: bytes | io.RawIOBase, *, length: bool) -> Request:
    """A request environ shaped like gunicorn's: input terminated, with or without length."""
    builder = EnvironBuilder(path="/assess", method="POST", content_type="application/json")
    environ = builder.get_environ()
    environ["wsgi.input"] = body if isinstance(body, io.RawIOBase) else io.BytesIO(body)
    if length and isinstance(body, bytes):
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    return Request(environ)


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_assessed(shared_client: FlaskClient, length: bool) -> None:
    body = b'{"age":40}' + b" " * (DEFAULT_LIMIT - 10)
    response = shared_client.open(gunicorn_like(body, length=length))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_one_byte_over_the_limit_is_413(shared_client: FlaskClient, length: bool) -> None:
    body = b'{"age":40}' + b" " * (DEFAULT_LIMIT - 9)
    response = shared_client.open(gunicorn_like(body, length=length))
    assert response.status_code == 413
    assert response.mimetype == PROBLEM_JSON
    assert json.loads(response.get_data())["detail"] == TOO_LARGE


@pytest.mark.parametrize(
    "error",
    [_GunicornParseError("Invalid chunk size"), OSError("peer went away")],
    ids=["framing", "disconnect"],
)
def test_an_unreadable_chunked_body_is_400(shared_client: FlaskClient, error: Exception) -> None:
    response = shared_client.open(gunicorn_like(BrokenStream(b'{"age":', error), length=False))
    assert response.status_code == 400
    assert json.loads(response.get_data()) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "The body could not be read: its chunked framing is broken or it ended early.",
    }


@pytest.mark.parametrize("sent", [b'{"age":40}', b'{"age":40}   ', b""])
def test_a_body_shorter_than_its_content_length_is_400(
    shared_client: FlaskClient, sent: bytes
) -> None:
    # Under gunicorn the stream just ends early; what arrived may even parse on its own.
    environ = gunicorn_like(sent, length=True).environ
    environ["CONTENT_LENGTH"] = str(len(sent) + 50)
    response = shared_client.open(Request(environ))
    assert response.status_code == 400
    assert json.loads(response.get_data())["detail"] == (
        "The body could not be read: its chunked framing is broken or it ended early."
    )
