"""Observability: request ids, Prometheus metrics, JSON logs and the drain flag.

``register_observability(app)`` is called by the app factory. It

- gives every request an id (``X-Request-ID``, echoed when sane) on every response;
- counts and times every request by route template, and serves ``GET /metrics``;
- hands the route, request id and urgency to gunicorn's access log through the WSGI environ;
- publishes ``popcheck_ruleset_info`` for the loaded ruleset.

The assess view calls ``record_assessment(body, fired)`` (or leaves the body on
``flask.g.assessment`` and the ``(table, rule)`` pairs on ``flask.g.fired_rules`` for the
after-request hook); either way it is counted once and the urgency goes on the access line.
``/readyz`` turns 503 while ``is_draining()``: the check is added to the app's ``Readiness``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Request, Response, current_app, g, has_request_context, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from popcheck.observability import metrics, requestid
from popcheck.observability.drain import DRAIN_FILE_ENV, is_draining
from popcheck.observability.jsonlog import (
    REQUEST_ID_ENVIRON_KEY,
    ROUTE_ENVIRON_KEY,
    URGENCY_ENVIRON_KEY,
)

__all__ = [
    "DRAIN_FILE_ENV",
    "is_draining",
    "record_assessment",
    "register_observability",
]


def record_assessment(
    assessment: Mapping[str, Any], fired_rules: Iterable[tuple[str, str]] = ()
) -> None:
    """Count one assessment (urgency, red flags, ``(table, rule)`` hits) and, inside a
    request, put its urgency on the access log line.

    Views normally need not call this: leaving the body on ``g.assessment`` is enough.
    """
    metrics.record_assessment(assessment, fired_rules)
    if has_request_context():
        ctx = g._get_current_object()
        ctx.urgency = str(assessment["urgency"]["level"])
        ctx.assessment_recorded = True


# The WSGI environ key of the X-Request-ID header (what ``request.headers`` looks up).
_REQUEST_ID_ENVIRON_HEADER = "HTTP_" + requestid.HEADER.upper().replace("-", "_")


def _not_draining() -> bool:
    return not is_draining()


def _start_request() -> None:
    # ``g`` and ``request`` are context-local proxies, and every attribute access through
    # one costs about a microsecond: both hooks resolve each proxy once per request.
    ctx = g._get_current_object()
    environ = request._get_current_object().environ  # type: ignore[attr-defined]
    ctx.request_started = time.perf_counter()
    ctx.request_id = requestid.choose(environ.get(_REQUEST_ID_ENVIRON_HEADER))


def _route_of_unrouted(req: Request) -> str:
    """The route template of a request werkzeug refused while routing.

    A 405 is raised before a rule is bound, but its path did match a route: labelling it
    with that route tells operators which endpoint callers are misusing. Every other
    refusal (404) shares ``UNMATCHED_ROUTE``, so scanners add one series, not thousands.
    """
    refused = req.routing_exception
    if isinstance(refused, MethodNotAllowed) and refused.valid_methods:
        method = next(iter(refused.valid_methods))
        adapter = current_app.url_map.bind_to_environ(req.environ)
        try:
            matched, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:  # pragma: no cover - the path matched a moment ago
            return metrics.UNMATCHED_ROUTE
        return str(matched.rule)
    return metrics.UNMATCHED_ROUTE


def _finish_request(response: Response) -> Response:
    # What the request left on ``g``, read as the plain dict it is (``g.get`` is a Python
    # call per name).
    noted = vars(g._get_current_object())
    req = request._get_current_object()  # type: ignore[attr-defined]
    started = noted.get("request_started")
    elapsed = time.perf_counter() - started if started is not None else 0.0
    # A request that failed before ``before_request`` ran still gets an id.
    request_id = noted.get("request_id") or requestid.choose(None)
    response.headers.set(requestid.HEADER, request_id)
    rule = req.url_rule
    route = rule.rule if rule is not None else _route_of_unrouted(req)
    status = response.status_code
    metrics.record_request(req.method, route, status, elapsed)
    assessment = noted.get("assessment")
    if assessment is not None and not noted.get("assessment_recorded") and status == 200:
        record_assessment(assessment, noted.get("fired_rules") or ())
    environ = req.environ
    environ[ROUTE_ENVIRON_KEY] = route
    environ[REQUEST_ID_ENVIRON_KEY] = request_id
    urgency = noted.get("urgency")
    if urgency is not None:
        environ[URGENCY_ENVIRON_KEY] = urgency
    return response


def _metrics_view() -> Response:
    body, content_type = metrics.render()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def register_observability(app: Flask) -> None:
    """Install request ids, request metrics, the ``/metrics`` route, the ruleset gauge and
    the drain check behind ``/readyz``."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=_metrics_view, methods=["GET"])
    metrics.init_process_metrics()
    state = app.extensions.get("popcheck")
    if state is not None:
        state.readiness.add_check(_not_draining)
        # Under gunicorn this runs in the master (preload_app); the ``post_fork`` hook sets
        # it again in each worker, where the multiprocess value files live.
        ruleset = state.assessor.ruleset
        metrics.set_ruleset_info(ruleset.name, ruleset.version, ruleset.digest)
