"""FHIR R4 for the intake: the Questionnaire popcheck asks, and QuestionnaireResponses in.

- ``questionnaire``: the ``Questionnaire`` built at start-up from the request contract
  (``popcheck.schemas.interview``) and the catalog's questions and ``follows``;
- ``answers``: a ``QuestionnaireResponse`` to it turned into the JSON request document, so it
  is validated and assessed exactly as the same answers sent as JSON.

Nothing here fetches anything or logs a resource: FHIR bodies are health data.
"""

from popcheck.fhir.answers import InvalidResponse, document_from_response
from popcheck.fhir.questionnaire import FHIR_JSON, IntakeForm, build_intake_form

__all__ = [
    "FHIR_JSON",
    "IntakeForm",
    "InvalidResponse",
    "build_intake_form",
    "document_from_response",
]
