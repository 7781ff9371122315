"""``Assessment`` (the body of ``POST /assess``) and ``RulesetDescription`` (``GET /rules``).

The pipeline builds plain dicts; these schemas describe them, field by field, as
``openapi.yaml`` does. The tests load every real response through them (``unknown = RAISE``),
so a field the pipeline adds or drops without updating the contract fails there. They are
not run per request: ``Assessor.assess`` already builds exactly this shape, and a second
pass would cost more than the rest of the request (see the performance goals in issue 6).
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

URGENCY_LEVELS = ("self_care", "routine", "soon", "urgent", "emergency")
LIKELIHOODS = ("likely", "possible")
RECOMMENDATION_TYPES = ("referral", "precaution", "therapy", "stretch")
HIT_POLICIES = ("UNIQUE", "ANY", "FIRST", "PRIORITY", "COLLECT", "RULE ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")

_DIGEST = validate.Regexp(r"^sha256:[0-9a-f]{64}$")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class RulesetRefSchema(_Strict):
    """Which rules produced an assessment."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True, validate=_DIGEST)


class UrgencySchema(_Strict):
    """The one urgency level, with what to do and why."""

    level = fields.String(required=True, validate=validate.OneOf(URGENCY_LEVELS))
    rank = fields.Integer(required=True, strict=True, validate=validate.Range(0, 4))
    seek_care = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True)
    rule = fields.String(required=True)


class RedFlagSchema(_Strict):
    """A serious pattern found, with the request fields that triggered it."""

    id = fields.String(required=True)
    label = fields.String(required=True)
    evidence = fields.List(fields.String(), required=True)


class CauseSchema(_Strict):
    """A likely or possible cause, explained in terms of the person's answers."""

    id = fields.String(required=True)
    label = fields.String(required=True)
    likelihood = fields.String(required=True, validate=validate.OneOf(LIKELIHOODS))
    score = fields.Float(required=True, validate=validate.Range(0, 1))
    explanation = fields.String(required=True)
    evidence = fields.List(fields.String(), required=True)


class RecommendationSchema(_Strict):
    """Something to do: a referral, a precaution, a therapy or a stretch."""

    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(RECOMMENDATION_TYPES))
    label = fields.String(required=True)
    instructions = fields.String(required=True)
    dose = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True)


class QuestionSchema(_Strict):
    """An unanswered field whose answer could raise the urgency."""

    field = fields.String(required=True)
    text = fields.String(required=True)


class WarningSchema(_Strict):
    """Answers that contradict each other."""

    code = fields.String(required=True)
    message = fields.String(required=True)
    # "fields" would shadow Schema.fields; the JSON name stays "fields".
    field_paths = fields.List(fields.String(), required=True, data_key="fields")


class AssessmentSchema(_Strict):
    """The whole ``POST /assess`` response."""

    id = fields.UUID(required=True)
    ruleset = fields.Nested(RulesetRefSchema, required=True)
    urgency = fields.Nested(UrgencySchema, required=True)
    red_flags = fields.List(fields.Nested(RedFlagSchema), required=True)
    causes = fields.List(fields.Nested(CauseSchema), required=True)
    recommendations = fields.List(fields.Nested(RecommendationSchema), required=True)
    questions = fields.List(fields.Nested(QuestionSchema), required=True)
    warnings = fields.List(fields.Nested(WarningSchema), required=True)
    disclaimer = fields.String(required=True)
    trace = fields.List(fields.Dict())


class TableDescriptionSchema(_Strict):
    """One decision table, as ``GET /rules`` lists it."""

    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    hit_policy = fields.String(required=True, validate=validate.OneOf(HIT_POLICIES))
    aggregation = fields.String(allow_none=True, validate=validate.OneOf(AGGREGATIONS))
    inputs = fields.List(fields.String(), required=True)
    outputs = fields.List(fields.String(), required=True)
    rule_count = fields.Integer(required=True, strict=True, validate=validate.Range(0))


class VocabularyEntrySchema(_Strict):
    """An id the service can return, with its label; urgency levels add ``rank`` and
    ``seek_care``, recommendations their ``type``."""

    id = fields.String(required=True)
    label = fields.String(required=True)
    rank = fields.Integer(strict=True, validate=validate.Range(0, 4))
    seek_care = fields.String()
    type = fields.String(validate=validate.OneOf(RECOMMENDATION_TYPES))


class RulesetDescriptionSchema(_Strict):
    """The ``GET /rules`` body."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True, validate=_DIGEST)
    tables = fields.List(fields.Nested(TableDescriptionSchema), required=True)
    vocabulary = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(VocabularyEntrySchema)),
        required=True,
    )
