"""CDS Hooks 2.0: ``GET /cds-services`` (discovery), ``POST /cds-services/popcheck-back-triage``
(the ``patient-view`` service) and ``POST /cds-services/popcheck-back-triage/feedback``.

The service assesses the prefetched answers exactly as ``POST /assess`` (the same
``assess_document``), so the card says what the API says. See ``popcheck.cds`` for the
prefetch rules (412 without the answers' prefetch; no cards without answers). Bodies are
health data: read with the same limit and strict JSON, never logged, ``no-store``.

Discovery is open. The two POST endpoints need the client's JWT when JWTs are configured
(``popcheck.api.cds_auth``), else an API key when keys are configured, else nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from popcheck.api.body import read_json_object
from popcheck.api.cds_auth import load_verifier
from popcheck.api.errors import ValidationProblem
from popcheck.cds import (
    SERVICE_ID,
    MissingPrefetch,
    NoAnswers,
    cards_for,
    discovery,
    intake_document,
)
from popcheck.fhir import InvalidResponse
from popcheck.intake import InvalidRequest, assess_document
from popcheck.observability import record_assessment
from popcheck.observability.metrics import record_cds_feedback
from popcheck.schemas import flatten_messages
from popcheck.schemas.cds import CdsFeedbackSchema, CdsRequestSchema
from popcheck.state import get_state

__all__ = ["CLOCK_CONFIG", "DISCOVERY", "SERVICE", "register"]

#: ``app.config`` key of a ``() -> date`` giving today (tests pin it); UTC today otherwise.
CLOCK_CONFIG = "POPCHECK_CDS_TODAY"
DISCOVERY = "cds_discovery"
SERVICE = "cds"

_REQUEST = CdsRequestSchema()
_FEEDBACK = CdsFeedbackSchema()


class PreconditionFailed(HTTPException):
    """412: CDS Hooks 2.0's answer when the service cannot get the data it needs."""

    code = 412
    description = "Precondition Failed"


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _load(schema: Any, document: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(document)
    except ValidationError as exc:
        raise ValidationProblem(flatten_messages(exc.messages)) from None
    return loaded


def register(app: Flask) -> None:
    """Mount the CDS blueprints on ``app`` (after its state is installed)."""
    state = get_state(app)
    verifier = load_verifier(state.settings)
    services = discovery(state.intake)

    open_bp = Blueprint(DISCOVERY, __name__)

    @open_bp.get("/cds-services")
    def cds_services() -> Response:
        """The discovery document."""
        return jsonify(services)

    bp = Blueprint(SERVICE, __name__)

    if verifier is not None:

        @bp.before_request
        def require_client_jwt() -> None:
            # OPTIONS only reveals the allowed methods; preflights never carry credentials.
            if request.method != "OPTIONS":
                verifier.verify()

    @bp.post(f"/cds-services/{SERVICE_ID}")
    def call_service() -> Response:
        """One ``patient-view`` call: one card for the urgency, or none."""
        app_state = get_state()
        hook_call = _load(_REQUEST, read_json_object(app_state.settings.max_body_bytes))
        clock: Callable[[], dt.date] = current_app.config.get(CLOCK_CONFIG) or _utc_today
        try:
            document = intake_document(app_state.intake, hook_call.get("prefetch"), clock())
        except MissingPrefetch as exc:
            raise PreconditionFailed(
                f"The prefetch '{exc.args[0]}' is missing, and popcheck does not query FHIR "
                "servers: send it as the discovery document's prefetch template asks."
            ) from None
        except NoAnswers:
            return jsonify({"cards": []})
        except InvalidResponse as exc:
            raise ValidationProblem(exc.errors) from None
        fired: list[tuple[str, str]] = []
        try:
            assessment = assess_document(app_state.assessor, document, fired=fired)
        except InvalidRequest as exc:
            raise ValidationProblem(exc.errors) from None
        record_assessment(assessment, fired)
        return jsonify({"cards": cards_for(app_state.assessor, assessment)})

    @bp.post(f"/cds-services/{SERVICE_ID}/feedback")
    def feedback() -> Response:
        """Count what the clinician did with the cards."""
        app_state = get_state()
        loaded = _load(_FEEDBACK, read_json_object(app_state.settings.max_body_bytes))
        for entry in loaded["feedback"]:
            record_cds_feedback(entry["outcome"])
        return jsonify({"received": len(loaded["feedback"])})

    app.register_blueprint(open_bp)
    app.register_blueprint(bp)


def service_needs_api_key(app: Flask) -> bool:
    """Whether the API keys (not a JWT) guard the CDS service: JWTs are off."""
    return get_state(app).settings.cds_jwks_file is None
