"""CDS Hooks 2.0 bodies (https://cds-hooks.hl7.org/2.0/): discovery, the hook request, cards
and feedback, as far as popcheck reads or writes them. Objects the spec leaves open (a
request's extensions, FHIR resources in ``prefetch``) stay open here.
"""

from __future__ import annotations

from marshmallow import fields, validate

from popcheck.cds import HOOK, SUMMARY_MAX
from popcheck.schemas.base import ClosedSchema, OpenSchema, TolerantSchema, described
from popcheck.schemas.openapi import COMPONENT


class CdsPrefetchTemplatesSchema(ClosedSchema):
    patient = fields.String(required=True)
    intake = fields.String(required=True)


class CdsServiceSchema(ClosedSchema):
    """One service of the discovery document."""

    hook = fields.String(required=True, validate=validate.Equal(HOOK))
    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    prefetch = fields.Nested(CdsPrefetchTemplatesSchema, required=True)
    usage_requirements = fields.String(data_key="usageRequirements")


class CdsServicesSchema(ClosedSchema):
    """`GET /cds-services`: the services popcheck offers (one)."""

    services = fields.List(fields.Nested(CdsServiceSchema), required=True)


class CdsHookContextSchema(OpenSchema):
    user_id = fields.String(data_key="userId", metadata=described("Who is looking at the chart."))
    patient_id = fields.String(
        required=True, data_key="patientId", metadata=described("The patient in context.")
    )
    encounter_id = fields.String(data_key="encounterId")


class CdsPrefetchSchema(OpenSchema):
    patient = fields.Dict(
        allow_none=True,
        metadata=described("The Patient (`birthDate` gives the age when the answers lack it)."),
    )
    intake = fields.Dict(
        allow_none=True,
        metadata=described(
            "The latest QuestionnaireResponse to popcheck's Questionnaire, or a searchset "
            "Bundle of them (the newest is used); `null` when the client found none."
        ),
    )


class CdsRequestSchema(OpenSchema):
    """A `patient-view` call. popcheck reads `prefetch` only; it never calls `fhirServer`."""

    hook = fields.String(required=True, validate=validate.Equal(HOOK))
    hook_instance = fields.String(required=True, data_key="hookInstance")
    fhir_server = fields.String(data_key="fhirServer")
    fhir_authorization = fields.Dict(data_key="fhirAuthorization", allow_none=True)
    context = fields.Nested(CdsHookContextSchema, required=True)
    prefetch = fields.Nested(
        CdsPrefetchSchema,
        metadata=described(
            "`patient` and `intake` (see the discovery document). Without `intake` the "
            "answer is 412: popcheck does not fetch."
        ),
    )


class CardSourceSchema(ClosedSchema):
    label = fields.String(required=True)


class CardSchema(ClosedSchema):
    """One card: the urgency, with red flags, reasons and likely causes in `detail`."""

    uuid = fields.String(required=True)
    summary = fields.String(required=True, validate=validate.Length(max=SUMMARY_MAX))
    indicator = fields.String(
        required=True,
        validate=validate.OneOf(("info", "warning", "critical")),
        metadata={COMPONENT: "CardIndicator"},
    )
    detail = fields.String(required=True, metadata=described("GitHub-flavoured Markdown."))
    source = fields.Nested(CardSourceSchema, required=True)


class CdsResponseSchema(ClosedSchema):
    """The cards: one for the urgency, none when there are no answers."""

    cards = fields.List(fields.Nested(CardSchema), required=True)


class CdsFeedbackItemSchema(TolerantSchema):
    card = fields.String(required=True, metadata=described("The `uuid` of the card."))
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(("accepted", "overridden")),
        metadata={COMPONENT: "FeedbackOutcome"},
    )
    outcome_timestamp = fields.String(data_key="outcomeTimestamp")


class CdsFeedbackSchema(OpenSchema):
    """What the clinician did with cards."""

    feedback = fields.List(
        fields.Nested(CdsFeedbackItemSchema),
        required=True,
        validate=validate.Length(min=1, max=100),
    )


class CdsFeedbackReceivedSchema(ClosedSchema):
    """How many feedback entries were counted."""

    received = fields.Integer(required=True, strict=True)
