"""Reading the ``POST /assess`` body: media type, size, strict JSON.

Flask's ``request.get_json()`` raises its own HTML-described errors and accepts ``NaN``;
reading here (and parsing with ``popcheck.jsontext``) keeps every failure a precise
problem+json and every accepted body real JSON.
"""

from __future__ import annotations

from typing import IO, Any

from flask import request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.wsgi import get_content_length

from popcheck.jsontext import MalformedJson, parse_json_object

JSON_MEDIA_TYPE = "application/json"
ACCEPT_POST = "application/json, application/fhir+json"

_UNREADABLE = "The body could not be read: its chunked framing is broken or it ended early."


class UnsupportedJsonMediaType(UnsupportedMediaType):
    """415 that also tells the caller what it should send (``Accept-Post``, RFC 9110 style)."""

    description = (
        "Send the body as JSON with 'Content-Type: application/json', or a FHIR "
        "QuestionnaireResponse with 'Content-Type: application/fhir+json'."
    )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """The base headers plus ``Accept-Post`` (the media types ``POST /assess`` takes)."""
        return [*super().get_headers(*args, **kwargs), ("Accept-Post", ACCEPT_POST)]


class NotUtf8MediaType(UnsupportedJsonMediaType):
    """415 for JSON declared in another character set: the body is always read as UTF-8."""

    def __init__(self, charset: str) -> None:
        super().__init__(
            f"The body must be UTF-8 JSON, but 'Content-Type' says charset={charset[:40]}; "
            "send UTF-8 with 'Content-Type: application/json' or 'application/fhir+json' "
            "(charset=utf-8 may be added)."
        )


# JSON is UTF-8 (RFC 8259 section 8.1); the charset parameter, if any, may only say so.
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


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


def read_json_object(max_bytes: int, environ: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the media type, read at most ``max_bytes``, parse strictly. ``environ`` is the
    request's WSGI environ (the current request's when not given).

    Raises 415, 413 or 400 (werkzeug exceptions, rendered by ``popcheck.api.errors``).
    """
    if environ is None:
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
    # Nearly every caller sends exactly "application/json": compare the raw header first
    # and leave werkzeug's parser (parameters, letter case) for everything else.
    if environ.get("CONTENT_TYPE") != JSON_MEDIA_TYPE and request.mimetype != JSON_MEDIA_TYPE:
        raise UnsupportedJsonMediaType()
    return read_json_body(max_bytes, environ)


def read_json_body(max_bytes: int, environ: dict[str, Any]) -> dict[str, Any]:
    """Read at most ``max_bytes`` and parse strictly, the media type already chosen (JSON or
    FHIR JSON): 415 for a charset other than UTF-8, 413, 400."""
    # Nearly every caller sends exactly "application/json": the raw header needs no parsing.
    if environ.get("CONTENT_TYPE") != JSON_MEDIA_TYPE:
        charset = request.mimetype_params.get("charset")
        if charset is not None and charset.strip().lower() not in _UTF8_NAMES:
            raise NotUtf8MediaType(charset)
    try:
        return parse_json_object(read_body(max_bytes, environ))
    except MalformedJson as exc:
        raise BadRequest(str(exc)) from None
