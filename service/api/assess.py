"""``POST /assess``: one assessment of one person's symptoms.

The view reads the body and delegates to ``popcheck.intake.assess_document`` (the same call
``popcheck assess`` makes); all clinical logic is in ``popcheck.assessment``.
Each successful assessment is counted by ``popcheck.observability.record_assessment``
(urgency, red flags; the urgency also goes on the access log line). Nothing from the
request body is logged or used as a metric label.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import BadRequest

from popcheck.api.body import JSON_MEDIA_TYPE, read_json_object
from popcheck.api.errors import ValidationProblem
from popcheck.api.fhir import read_response_document
from popcheck.fhir import FHIR_JSON
from popcheck.intake import InvalidRequest, assess_document
from popcheck.observability import record_assessment
from popcheck.observability.requestid import new_uuid4
from popcheck.state import get_state

# Needs an API key when keys are configured (``popcheck.api.register_blueprints``).
bp = Blueprint("assess", __name__)

_EXPLAIN_VALUES = {"true": True, "false": False}


def _explain_requested(environ: dict[str, Any]) -> bool:
    # Most calls carry no query string at all: skip werkzeug's parsing of an empty one.
    if not environ.get("QUERY_STRING"):
        return False
    raw = request.args.get("explain")
    if raw is None:
        return False
    try:
        return _EXPLAIN_VALUES[raw.lower()]
    except KeyError:
        raise BadRequest("The query parameter 'explain' must be 'true' or 'false'.") from None


def _encode(body: dict[str, Any]) -> bytes:
    """The response body as compact UTF-8 JSON, in the pipeline's key order.

    orjson, because encoding was the largest cost of the view after the rules themselves:
    about 60 µs through ``jsonify`` for a typical 5 KB assessment, 2 µs with orjson (see
    ``make bench``). Should it ever refuse a value (an integer beyond 64 bits, a key that is
    not a string), the standard library, which accepts both, writes the body instead.
    """
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":")).encode()


@bp.post("/assess")
def assess() -> Response:
    """Assess one request (JSON, or a FHIR QuestionnaireResponse); ``?explain=true`` adds
    ``trace``."""
    # Each attribute read through Flask's ``request``/``current_app`` proxies costs about
    # 0.8 µs, resolving one about 0.1 µs: resolve each once.
    environ = request._get_current_object().environ  # type: ignore[attr-defined]
    explain = _explain_requested(environ)
    state = get_state(current_app._get_current_object())  # type: ignore[attr-defined]
    # The JSON fast path first: one look at the raw header. A QuestionnaireResponse
    # (``application/fhir+json``) becomes the same document (``popcheck.api.fhir``).
    if environ.get("CONTENT_TYPE") != JSON_MEDIA_TYPE and request.mimetype == FHIR_JSON:
        document = read_response_document(state.intake, state.settings.max_body_bytes, environ)
    else:
        document = read_json_object(state.settings.max_body_bytes, environ)
    fired: list[tuple[str, str]] = []
    try:
        result = assess_document(state.assessor, document, explain=explain, fired=fired)
    except InvalidRequest as exc:
        raise ValidationProblem(exc.errors) from None
    body = {"id": new_uuid4(), **result}
    record_assessment(body, fired)
    # ``content_type`` rather than ``mimetype``: the same header, without werkzeug working
    # out whether a charset parameter belongs on it.
    return Response(_encode(body), content_type=JSON_MEDIA_TYPE)
