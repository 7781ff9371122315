"""Liveness and readiness probes (``application/health+json``).

``/healthz`` (and its alias ``/livez``) says the process answers; it stays 200 while
draining, so an orchestrator does not kill a process that is finishing its requests.
``/readyz`` says the process should get traffic: ruleset loaded and checked (true for any
app ``create_app`` returned) and not draining. ``is_ready`` is the one place that decides.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response

from popcheck.state import get_state

HEALTH_JSON = "application/health+json"

bp = Blueprint("health", __name__)


def is_ready(app: Flask | None = None) -> bool:
    """Whether ``app`` (default: the current app) should receive traffic now.

    The answer is the app's ``Readiness`` (``ServiceState``): not draining, and every check
    registered on it passing. ``register_observability`` registers the check for the drain
    marker ``popcheck serve`` writes on SIGTERM, which every worker sees.
    """
    return get_state(app).readiness.is_ready()


def _health(passing: bool) -> Response:
    status = "pass" if passing else "fail"
    response = Response(
        json.dumps({"status": status}), status=200 if passing else 503, mimetype=HEALTH_JSON
    )
    # A cached "pass" would hide a drain from the load balancer.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@bp.get("/livez")
def healthz() -> Response:
    """Liveness: 200 ``{"status": "pass"}`` whenever the process can answer."""
    return _health(True)


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 ``pass``, or 503 ``fail`` while draining or a readiness check fails."""
    return _health(is_ready())
