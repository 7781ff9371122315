"""The FHIR R4 resources popcheck serves and reads, as far as the OpenAPI document describes
them: the elements popcheck sets or reads. Everything else of a resource is FHIR's own
(https://hl7.org/fhir/R4/), so these objects stay open (``unknown = INCLUDE``); what a
response must hold to answer popcheck's Questionnaire is checked when it is read
(``popcheck.fhir.answers``: 422 with ``errors`` by ``linkId``).
"""

from __future__ import annotations

from marshmallow import fields, validate

from popcheck.schemas.base import OpenSchema, described
from popcheck.schemas.openapi import COMPONENT


class QuestionnaireResponseItemSchema(OpenSchema):
    link_id = fields.String(
        required=True,
        data_key="linkId",
        metadata=described("The Questionnaire item answered: a request field path, or a group."),
    )
    answer = fields.List(
        fields.Dict(),
        metadata=described(
            "`valueBoolean`, `valueInteger`, `valueDecimal` or `valueCoding`, as the item's "
            "type says; several only for a multi-choice item."
        ),
    )
    item = fields.List(fields.Dict(), metadata=described("A group's items."))


class QuestionnaireResponseSchema(OpenSchema):
    """A FHIR R4 QuestionnaireResponse to popcheck's Questionnaire
    (`GET /fhir/Questionnaire/popcheck-intake`), items nested as its groups are."""

    resource_type = fields.String(
        required=True,
        data_key="resourceType",
        validate=validate.Equal("QuestionnaireResponse"),
    )
    questionnaire = fields.String(
        required=True,
        metadata=described("The Questionnaire's canonical `url` (optionally `|version`)."),
    )
    status = fields.String(
        validate=validate.OneOf(("in-progress", "completed", "amended")),
        metadata={COMPONENT: "QuestionnaireResponseStatus"},
    )
    item = fields.List(fields.Nested(QuestionnaireResponseItemSchema))


class QuestionnaireSchema(OpenSchema):
    """The FHIR R4 Questionnaire of popcheck's intake: one item per request field (`linkId` =
    the field path), grouped by section, `enableWhen` on follow-up questions."""

    resource_type = fields.String(
        required=True, data_key="resourceType", validate=validate.Equal("Questionnaire")
    )
    id = fields.String(required=True)
    url = fields.String(required=True)
    version = fields.String(required=True, metadata=described("The ruleset's version."))
    name = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.Equal("active"))
    item = fields.List(fields.Dict(), required=True)
