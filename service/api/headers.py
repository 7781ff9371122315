"""Security headers on every response, errors included."""

from __future__ import annotations

from flask import Flask, Response

_SECURITY_HEADERS = {
    # Stop browsers from sniffing a JSON body into something executable.
    "X-Content-Type-Options": "nosniff",
    # Nothing here is meant to be framed (clickjacking); the API serves no HTML.
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def _add_security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # The app never advertises a server or version; gunicorn's own header is removed in
    # the gunicorn configuration.
    response.headers.pop("Server", None)
    return response


def register_security_headers(app: Flask) -> None:
    """Add ``X-Content-Type-Options`` and ``Content-Security-Policy`` to every response."""
    app.after_request(_add_security_headers)
