"""The baseline: a bare Flask app that parses the JSON body and returns a fixed body.

It is what popcheck would cost if validation, the rules, assembly, metrics and headers were
free: the ceiling the service is measured against. It answers ``POST /assess`` with a
JSON document of ``size`` bytes (the mean size of the service's answers on the same payload
mix), so both sides move the same bytes.

gunicorn runs it as ``bench._bare_app:create_app()`` under ``deploy/gunicorn.conf.py``; the
size then comes from ``BENCH_BARE_BODY_BYTES``.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, request

BODY_BYTES_ENV = "BENCH_BARE_BODY_BYTES"
DEFAULT_BODY_BYTES = 3900


def fixed_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least the 10 of ``{"pad":""}``)."""
    overhead = len(b'{"pad":""}')
    return b'{"pad":"' + b"x" * max(0, size - overhead) + b'"}'


def create_app(size: int | None = None) -> Flask:
    """The bare app; ``size`` defaults to ``$BENCH_BARE_BODY_BYTES``."""
    if size is None:
        size = int(os.environ.get(BODY_BYTES_ENV, DEFAULT_BODY_BYTES))
    body = fixed_body(size)
    app = Flask(__name__, static_folder=None)

    @app.post("/assess")
    def assess() -> Response:
        json.loads(request.get_data())
        return Response(body, mimetype="application/json")

    @app.get("/readyz")
    def readyz() -> Response:
        # Only for HAProxy's health check when bench/slow_clients.py puts it in front.
        return Response(b'{"status":"ok"}', mimetype="application/json")

    return app
