"""Security headers on every response, errors included."""

from __future__ import annotations

from flask import Flask, Response

_SECURITY_HEADERS = {
    # Stop browsers from sniffing a JSON body into something executable.
    "X-Content-Type-Options": "nosniff",
    # Nothing here is meant to be framed (clickjacking); the API serves no HTML.
    "Content-Security-Policy": "frame-ancestors 'none'",
}


# (name, lower-case name, value), lowered once here rather than on every response.
_HEADERS_TO_ADD = tuple((name, name.lower(), value) for name, value in _SECURITY_HEADERS.items())


def _add_security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the few headers already set: werkzeug's ``setdefault``, ``pop`` and
    # ``in`` build and catch an exception for every name that is absent, which cost more
    # than the rest of this hook together (three of them on every response).
    present = {name.lower() for name, _ in headers}
    for name, lowered, value in _HEADERS_TO_ADD:
        if lowered not in present:
            # Absent, so appending is all ``headers[name] = value`` would do, without its
            # second pass looking for copies to replace.
            headers.add(name, value)
    # The app never advertises a server or version; gunicorn's own header is removed in
    # the gunicorn configuration.
    if "server" in present:
        del headers["Server"]
    return response


def register_security_headers(app: Flask) -> None:
    """Add ``X-Content-Type-Options`` and ``Content-Security-Policy`` to every response."""
    app.after_request(_add_security_headers)
