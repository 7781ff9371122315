"""Headers every response carries (security), and no-store on the blueprints that ask for it."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request
from werkzeug.datastructures import Headers

SECURITY_HEADERS = {
    # Stop browsers from sniffing a JSON body into something executable.
    "X-Content-Type-Options": "nosniff",
    # Nothing here is meant to be framed (clickjacking); the API serves no HTML.
    "Content-Security-Policy": "frame-ancestors 'none'",
}


# (name, lower-case name, value), lowered once here rather than on every response.
_HEADERS_TO_ADD = tuple((name, name.lower(), value) for name, value in SECURITY_HEADERS.items())
_NO_STORE = ("Cache-Control", "cache-control", "no-store")


def register_security_headers(app: Flask, no_store: Iterable[str] = ()) -> None:
    """Add ``X-Content-Type-Options`` and ``Content-Security-Policy`` to every response, and
    ``Cache-Control: no-store`` to every response of the blueprints named in ``no_store``
    (their errors included).

    One hook does both, over one look at the headers already set: a hook of its own for
    no-store cost a second hook call and a second pass.
    """
    no_store_blueprints = frozenset(no_store)

    def add_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the few headers already set: werkzeug's ``setdefault``, ``pop`` and
        # ``in`` build and catch an exception for every name that is absent, which cost more
        # than the rest of this hook together.
        present = {name.lower() for name, _ in headers}
        blueprint = request._get_current_object().blueprint  # type: ignore[attr-defined]
        if blueprint in no_store_blueprints:
            _put(headers, present, *_NO_STORE)
        for name, lowered, value in _HEADERS_TO_ADD:
            if lowered not in present:
                headers.add(name, value)
        # The app never advertises a server or version. (gunicorn still writes its own
        # "Server: gunicorn" ahead of these headers: no setting of gunicorn drops it.)
        if "server" in present:
            del headers["Server"]
        return response

    app.after_request(add_headers)


def _put(headers: Headers, present: set[str], name: str, lowered: str, value: str) -> None:
    """``headers[name] = value``; when the name is absent (known from ``present``) that is
    an append, without werkzeug's second pass looking for copies to replace."""
    if lowered in present:
        headers[name] = value
    else:
        headers.add(name, value)
