"""FHIR R4: ``GET /fhir/Questionnaire/popcheck-intake``, and QuestionnaireResponses in.

The Questionnaire is built at start-up (``popcheck.fhir.build_intake_form``) and served as
those bytes. ``POST /assess`` with ``Content-Type: application/fhir+json`` reads its body
here (``read_response_document``): the same size limit and strict JSON as a JSON request,
then the response's answers as the JSON request document. A response that does not answer
the Questionnaire is 422 with ``errors`` keyed by ``linkId``. Nothing is logged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from popcheck.api.body import read_json_body
from popcheck.api.errors import ValidationProblem
from popcheck.fhir import FHIR_JSON, IntakeForm, InvalidResponse, document_from_response
from popcheck.fhir.questionnaire import QUESTIONNAIRE_ID

__all__ = ["create_blueprint", "read_response_document"]


def read_response_document(
    form: IntakeForm, max_bytes: int, environ: dict[str, Any]
) -> dict[str, Any]:
    """The JSON request document a ``QuestionnaireResponse`` body makes (415, 413, 400, 422)."""
    resource = read_json_body(max_bytes, environ)
    try:
        return document_from_response(form, resource)
    except InvalidResponse as exc:
        raise ValidationProblem(exc.errors) from None


def create_blueprint(form: IntakeForm) -> Blueprint:
    """The blueprint serving ``form``'s Questionnaire (built at ``create_app``)."""
    bp = Blueprint("fhir", __name__)
    body = form.body

    @bp.get(f"/fhir/Questionnaire/{QUESTIONNAIRE_ID}")
    def questionnaire() -> Response:
        """The intake's Questionnaire."""
        return Response(body, content_type=FHIR_JSON)

    return bp
