"""Reading the ``POST /assess`` body: media type, size, strict JSON.

Flask's ``request.get_json()`` raises its own HTML-described errors and accepts ``NaN``;
reading here keeps every failure a precise problem+json and every accepted body real JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any, NoReturn

import orjson
from flask import request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.wsgi import get_content_length

JSON_MEDIA_TYPE = "application/json"

_UNREADABLE = "The body could not be read: its chunked framing is broken or it ended early."


class UnsupportedJsonMediaType(UnsupportedMediaType):
    """415 that also tells the caller what it should send (``Accept-Post``, RFC 9110 style)."""

    description = "Send the body as JSON with 'Content-Type: application/json'."

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """The base headers plus ``Accept-Post: application/json``."""
        return [*super().get_headers(*args, **kwargs), ("Accept-Post", JSON_MEDIA_TYPE)]


class NonJsonConstantError(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json accepts them, RFC 8259 does not."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a JSON number")
        self.name = name


def _reject_constant(name: str) -> NoReturn:
    raise NonJsonConstantError(name)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With duplicates, json.loads keeps the last value silently. For symptom answers that is
    # a guess about what the person meant, so a duplicate key is a malformed body.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return obj


class DuplicateKeyError(ValueError):
    """An object in the body names the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _too_large(max_bytes: int) -> RequestEntityTooLarge:
    # Built only when raised: an exception and its message cost about 0.5 µs to make.
    return RequestEntityTooLarge(f"The body is larger than the limit of {max_bytes} bytes.")


def read_body(max_bytes: int, environ: dict[str, Any] | None = None) -> bytes:
    """The raw body, never more than ``max_bytes``; 413 beyond that.

    With a ``Content-Length``, a declared length over the limit is 413 before anything is
    read, and a body that ends before its declared length is 400. A chunked body has no
    length, and werkzeug's stream then silently stops at the limit, so a 10 MB body would
    be cut into a "valid" 64 KiB one. For those, read the server's stream (which ends at
    the last chunk when the server sets ``wsgi.input_terminated``) up to ``max_bytes + 1``
    bytes: one byte more than allowed proves the body too large without reading the rest.
    ``environ`` is the request's WSGI environ (the current request's when not given).
    """
    if environ is None:
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
    # What ``request.content_length`` answers, read from the environ without building
    # werkzeug's header view of it first (a measurable share of a small request).
    length = get_content_length(environ)
    if length is not None:
        if length > max_bytes:
            raise _too_large(max_bytes)
        # Exactly the declared length, straight from the server's stream (WSGI lets an app
        # read up to CONTENT_LENGTH). werkzeug's ``request.stream`` would only wrap it, at a
        # measurable cost per request; and under gunicorn (``wsgi.input_terminated``) it caps
        # reads at the limit and answers any read past it with its own 413, even at the end
        # of a body of exactly ``max_bytes``.
        stream: IO[bytes] = environ["wsgi.input"]
        wanted = length
    elif environ.get("wsgi.input_terminated"):
        stream = environ["wsgi.input"]
        wanted = max_bytes + 1
    else:
        # No length and a server that cannot mark the end: werkzeug's safe default is to
        # read nothing rather than block on an endless stream.
        return b""
    chunks: list[bytes] = []
    received = 0
    while received < wanted:
        # A stream may return fewer bytes than asked for (one chunk at a time).
        try:
            chunk = stream.read(wanted - received)
        except HTTPException:
            raise  # werkzeug's own answers (client disconnected, too large) stand
        except Exception:
            # The server's stream failed mid-body: gunicorn raises its own parse errors
            # (not OSError) for broken chunked framing, and OSError when the peer went away.
            # The caller sent a body that cannot be read, which is a 400, never a 500.
            raise BadRequest(_UNREADABLE) from None
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if received > max_bytes:
        raise _too_large(max_bytes)
    if length is not None and received < length:
        # The connection ended before the declared length: what arrived may still parse
        # (``{"age": 40}`` of a longer body), but it is not what the caller sent.
        raise BadRequest(_UNREADABLE)
    return b"".join(chunks)


def parse_json_object(data: bytes) -> dict[str, Any]:
    """Strict JSON (UTF-8, no NaN/Infinity, no duplicate keys) whose top level is an object."""
    document = _parse_plain_object(data)
    if document is not None:
        return document
    return _parse_strictly(data)


# Beyond this many brackets the strict parser (below) might run out of recursion where
# orjson, whose limit is 1024 levels, would not. A request nests two levels deep.
_PLAIN_MAX_BRACKETS = 64
# orjson turns an integer beyond 64 bits into a float where the standard library keeps an
# int; any float this large is left to the strict parser.
_LONG_INTEGER_FLOAT = float(2**63)


def _parse_plain_object(data: bytes) -> dict[str, Any] | None:
    """orjson's reading of ``data`` when it is provably what ``_parse_strictly`` returns, else
    ``None``.

    The strict parser costs about 6 µs for a typical request (its duplicate-key hook runs in
    Python for every object), orjson about 1 µs. orjson refuses everything the strict parser
    refuses except duplicate keys (it keeps the last), deep nesting and integers beyond 64
    bits, which are checked here; every refusal goes to the strict parser, whose message the
    caller gets. Every key in JSON text is followed by a colon, and outside strings a colon
    appears nowhere else, so when the parsed objects hold as many keys as the text has colons,
    no key was dropped as a duplicate (a colon inside a string just means the strict path).
    """
    if data.count(b"{") + data.count(b"[") > _PLAIN_MAX_BRACKETS:
        return None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(document) is not dict or _count_keys(document) != data.count(b":"):
        return None
    return document


def _count_keys(node: dict[str, Any] | list[Any]) -> int:
    """The keys of every object in ``node``, or -1 for a float that may have been a long int."""
    if type(node) is dict:
        count = len(node)
        values: Iterable[Any] = node.values()
    else:
        count = 0
        values = node
    for value in values:
        kind = type(value)
        if kind is dict or kind is list:
            inner = _count_keys(value)
            if inner < 0:
                return -1
            count += inner
        elif kind is float and not -_LONG_INTEGER_FLOAT < value < _LONG_INTEGER_FLOAT:
            return -1
    return count


def _parse_strictly(data: bytes) -> dict[str, Any]:
    """The reference reading of a body, with a precise message for each way it can fail."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not valid UTF-8.") from None
    if not text.strip():
        raise BadRequest("The body is empty; send a JSON object.")
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_keys
        )
    except RecursionError:
        raise BadRequest("The body is nested too deeply to be a request.") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    except NonJsonConstantError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc.name} is not a JSON number.") from None
    except DuplicateKeyError as exc:
        raise BadRequest(f"The body is not valid: an object repeats the key {exc.key!r}.") from None
    except ValueError:
        # An integer with more digits than Python converts (sys.get_int_max_str_digits()).
        raise BadRequest("The body contains a number too long to represent.") from None
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object.")
    return document


def read_json_object(max_bytes: int, environ: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the media type, read at most ``max_bytes``, parse strictly. ``environ`` is the
    request's WSGI environ (the current request's when not given).

    Raises 415, 413 or 400 (werkzeug exceptions, rendered by ``service.api.errors``).
    """
    if environ is None:
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
    # Nearly every caller sends exactly "application/json": compare the raw header first
    # and leave werkzeug's parser (parameters, letter case) for everything else.
    if environ.get("CONTENT_TYPE") != JSON_MEDIA_TYPE:
        if request.mimetype != JSON_MEDIA_TYPE:
            raise UnsupportedJsonMediaType()
    return parse_json_object(read_body(max_bytes, environ))
