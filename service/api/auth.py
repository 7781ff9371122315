"""Optional API keys: ``Authorization: Bearer <key>`` on ``/assess`` and ``/rules``.

Keys come from ``POPCHECK_API_KEYS``; with none configured the service is open. Health,
readiness, metrics and the spec never require a key (probes and scrapers carry none).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from flask import Flask, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from popcheck.state import get_state

_REALM = "popcheck"


def _challenge(error: str | None = None) -> WWWAuthenticate:
    parameters: dict[str, str | None] = {"realm": _REALM}
    if error is not None:
        # RFC 6750 section 3.1: tell a client with a wrong key apart from one with none.
        parameters["error"] = error
    return WWWAuthenticate("Bearer", parameters)


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def key_is_valid(token: str, keys: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured key.

    All keys are compared, whatever matches, so the time taken does not tell which key
    (or how much of one) was right.
    """
    presented = token.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode("utf-8", "surrogateescape"))
    return matched


def register_api_keys(app: Flask, protected: Iterable[str]) -> None:
    """Require a configured key on the endpoints of the ``protected`` blueprints.

    With no keys configured the service is open and no hook is installed at all: it would
    run before every assessment only to find nothing to check.
    """
    if not get_state(app).settings.api_keys:
        return
    names = frozenset(protected)

    def require_api_key_if_protected() -> None:
        if request._get_current_object().blueprint in names:  # type: ignore[attr-defined]
            require_api_key()

    app.before_request(require_api_key_if_protected)


def require_api_key() -> None:
    """401 unless a configured key is sent (``register_api_keys`` runs it before each request
    to a protected blueprint).

    Never logs the presented or configured keys.
    """
    # The app resolved once: an attribute read through the ``current_app`` proxy costs about
    # 0.8 µs, and with keys configured this runs before every assessment.
    keys = get_state(current_app._get_current_object()).settings.api_keys  # type: ignore[attr-defined]
    # OPTIONS only reveals the allowed methods, and CORS preflights never carry credentials.
    if not keys or request.method == "OPTIONS":
        return
    token = _presented_token()
    if token is None:
        raise Unauthorized(
            "This endpoint needs 'Authorization: Bearer <key>'.",
            www_authenticate=_challenge(),
        )
    if not key_is_valid(token, keys):
        raise Unauthorized(
            "The bearer key is not valid for this service.",
            www_authenticate=_challenge("invalid_token"),
        )
