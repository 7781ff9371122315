"""CDS Hooks 2.0 bodies (https://cds-hooks.hl7.org/2.0/): discovery, the hook request, cards
and feedback, as far as popcheck reads or writes them. Objects the spec leaves open (a
request's extensions, FHIR resources in ``prefetch``) stay open here.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

from popcheck.cds import HOOK, SUMMARY_MAX
from popcheck.schemas.openapi import COMPONENT


def _doc(description: str) -> dict[str, str]:
    return {"description": description}


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


class _Closed(Schema):
    class Meta:
        unknown = RAISE


class _IgnoreUnknown(Schema):
    class Meta:
        unknown = EXCLUDE


class CdsPrefetchTemplatesSchema(_Closed):
    patient = fields.String(required=True)
    intake = fields.String(required=True)


class CdsServiceSchema(_Closed):
    """One service of the discovery document."""

    hook = fields.String(required=True, validate=validate.Equal(HOOK))
    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    prefetch = fields.Nested(CdsPrefetchTemplatesSchema, required=True)
    usage_requirements = fields.String(data_key="usageRequirements")


class CdsServicesSchema(_Closed):
    """`GET /cds-services`: the services popcheck offers (one)."""

    services = fields.List(fields.Nested(CdsServiceSchema), required=True)


class CdsHookContextSchema(_Open):
    user_id = fields.String(data_key="userId", metadata=_doc("Who is looking at the chart."))
    patient_id = fields.String(
        required=True, data_key="patientId", metadata=_doc("The patient in context.")
    )
    encounter_id = fields.String(data_key="encounterId")


class CdsPrefetchSchema(_Open):
    patient = fields.Dict(
        allow_none=True,
        metadata=_doc("The Patient (`birthDate` gives the age when the answers lack it)."),
    )
    intake = fields.Dict(
        allow_none=True,
        metadata=_doc(
            "The latest QuestionnaireResponse to popcheck's Questionnaire, or a searchset "
            "Bundle of them (the newest is used); `null` when the client found none."
        ),
    )


class CdsRequestSchema(_Open):
    """A `patient-view` call. popcheck reads `prefetch` only; it never calls `fhirServer`."""

    hook = fields.String(required=True, validate=validate.Equal(HOOK))
    hook_instance = fields.String(required=True, data_key="hookInstance")
    fhir_server = fields.String(data_key="fhirServer")
    fhir_authorization = fields.Dict(data_key="fhirAuthorization", allow_none=True)
    context = fields.Nested(CdsHookContextSchema, required=True)
    prefetch = fields.Nested(
        CdsPrefetchSchema,
        metadata=_doc(
            "`patient` and `intake` (see the discovery document). Without `intake` the "
            "answer is 412: popcheck does not fetch."
        ),
    )


class CardSourceSchema(_Closed):
    label = fields.String(required=True)


class CardSchema(_Closed):
    """One card: the urgency, with red flags, reasons and likely causes in `detail`."""

    uuid = fields.String(required=True)
    summary = fields.String(required=True, validate=validate.Length(max=SUMMARY_MAX))
    indicator = fields.String(
        required=True,
        validate=validate.OneOf(("info", "warning", "critical")),
        metadata={COMPONENT: "CardIndicator"},
    )
    detail = fields.String(required=True, metadata=_doc("GitHub-flavoured Markdown."))
    source = fields.Nested(CardSourceSchema, required=True)


class CdsResponseSchema(_Closed):
    """The cards: one for the urgency, none when there are no answers."""

    cards = fields.List(fields.Nested(CardSchema), required=True)


class CdsFeedbackItemSchema(_IgnoreUnknown):
    card = fields.String(required=True, metadata=_doc("The `uuid` of the card."))
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(("accepted", "overridden")),
        metadata={COMPONENT: "FeedbackOutcome"},
    )
    outcome_timestamp = fields.String(data_key="outcomeTimestamp")


class CdsFeedbackSchema(_Open):
    """What the clinician did with cards."""

    feedback = fields.List(
        fields.Nested(CdsFeedbackItemSchema),
        required=True,
        validate=validate.Length(min=1, max=100),
    )


class CdsFeedbackReceivedSchema(_Closed):
    """How many feedback entries were counted."""

    received = fields.Integer(required=True, strict=True)
