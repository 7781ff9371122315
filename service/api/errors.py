"""One error shape for every status: ``application/problem+json`` (RFC 9457).

Views and helpers raise werkzeug ``HTTPException`` subclasses; this module is the only place
that turns them into responses. Exceptions that are not HTTP errors reach Flask's
``handle_exception``, which logs them (without the request body) and hands this handler a
generic ``InternalServerError``, so a 500 never shows internals.

Hierarchy drawn from werkzeug::

    HTTPException
     +-- BadRequest (400)             body is not JSON / not an object, bad query value
     +-- Unauthorized (401)           API keys configured, no valid bearer token
     +-- NotFound (404), MethodNotAllowed (405, keeps ``Allow``)
     +-- RequestEntityTooLarge (413)  over ``POPCHECK_MAX_BODY_BYTES``, chunked or not
     +-- UnsupportedMediaType (415)   Content-Type is not application/json
     +-- UnprocessableEntity (422)
     |    +-- ValidationProblem       carries the ``errors`` map (field path -> messages)
     +-- InternalServerError (500)    generic; the original exception is only logged
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, UnprocessableEntity
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_JSON = "application/problem+json"

# RFC 9457 section 4.2.1: with "about:blank" the title is the status phrase, so callers can
# switch on the status alone. popcheck defines no finer problem types.
_ABOUT_BLANK = "about:blank"

_GENERIC_500 = "The server could not complete the request. The error has been logged."

# Headers that describe werkzeug's own HTML error page, not our problem document.
_DROPPED_HEADERS = frozenset({"content-type", "content-length"})


class ValidationProblem(UnprocessableEntity):
    """422: the JSON is well formed but fails validation.

    ``errors`` maps each dotted field path (``pain.level``, ``muscles.tight.2``) to its
    messages.
    """

    description = "The request body is well-formed JSON but fails validation; see errors."

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        super().__init__()
        self.errors = {path: list(messages) for path, messages in errors.items()}


def problem_body(
    status: int, detail: str, errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """The RFC 9457 document for ``status``; ``errors`` only for 422."""
    body: dict[str, Any] = {
        "type": _ABOUT_BLANK,
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def handle_http_exception(error: HTTPException) -> Response:
    """The one handler: every HTTP error, including the generic 500, as problem+json."""
    status = error.code or 500
    if status >= 500:
        detail = _GENERIC_500
    else:
        detail = error.description or HTTP_STATUS_CODES.get(status, "Error")
    errors = error.errors if isinstance(error, ValidationProblem) else None
    response = Response(
        json.dumps(problem_body(status, detail, errors)),
        status=status,
        mimetype=PROBLEM_JSON,
    )
    # get_headers() carries Allow (405), WWW-Authenticate (401) and Retry-After; without
    # copying them a 405 would lose its Allow header.
    for name, value in error.get_headers():
        lowered = name.lower()
        if lowered in _DROPPED_HEADERS:
            continue
        if lowered == "allow":
            # werkzeug joins the methods from a set, so their order changed with the hash
            # seed (from one worker to the next); sorted, every answer reads the same.
            value = ", ".join(sorted(method.strip() for method in value.split(",")))
        response.headers.add(name, value)
    return response


def register_error_handlers(app: Flask) -> None:
    """Route every ``HTTPException`` (and so every 500) through ``handle_http_exception``."""
    app.register_error_handler(HTTPException, handle_http_exception)
