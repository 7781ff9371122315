"""The response bodies: ``Assessment`` (``POST /assess``), ``RulesetDescription``
(``GET /rules``), ``Health`` (the probes) and ``Problem`` / ``ValidationProblem`` (every error).

These schemas are the one declaration of what the service answers: ``openapi.yaml``'s response
components are generated from them (``make spec``, at start-up for ``GET /openapi.yaml``), and
a field's ``metadata["description"]`` is the text callers read. The pipeline builds plain dicts;
the tests load every real response through these schemas (``unknown = RAISE`` where the
contract closes the object), so a field the pipeline adds or drops without a change here fails
there. They are not run per request: ``Assessor.assess`` already builds exactly this shape, and
a second pass would cost more than the rest of the request (see the performance goals in
issue 6).

Names follow the components: ``FooSchema`` is ``#/components/schemas/Foo``, and every enum is
a named component too (``COMPONENT``), so that a generated client has one named type for
each. A schema whose name starts with ``_`` would be written inline where it is used instead
(see ``service/schemas/openapi.py``); the contract has none, because generators give inline
objects names of their own making.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, fields, validate

from popcheck.schemas.base import ClosedSchema, TolerantSchema, described
from popcheck.schemas.interview import QUESTION_TYPES
from popcheck.schemas.openapi import COMPONENT

URGENCY_LEVELS = ("self_care", "routine", "soon", "urgent", "emergency")
LIKELIHOODS = ("likely", "possible")
RECOMMENDATION_TYPES = ("referral", "precaution", "therapy", "stretch")
HIT_POLICIES = ("UNIQUE", "ANY", "FIRST", "PRIORITY", "COLLECT", "RULE ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
HEALTH_STATUSES = ("pass", "fail")

_DIGEST = validate.Regexp(r"^sha256:[0-9a-f]{64}$")
_VERSION = "Semantic version of the ruleset."


def _enum(values: tuple[str, ...], component: str, **kwargs: Any) -> fields.String:
    """One of ``values``, written once in the spec as the named enum ``component``, so every
    use is one type in a generated client. A nullable one (``allow_none=True``) is that
    component or ``null``; the component itself never holds ``null``."""
    return fields.String(validate=validate.OneOf(values), metadata={COMPONENT: component}, **kwargs)


def _strings(**kwargs: Any) -> fields.List[str]:
    return fields.List(fields.String(), **kwargs)


class Meta:
    unknown = EXCLUDE


# ---------------------------------------------------------------- POST /assess


class RulesetRefSchema(ClosedSchema):
    """Which rules produced an assessment."""

    name = fields.String(required=True)
    version = fields.String(required=True, metadata=described(_VERSION))
    digest = fields.String(
        required=True,
        validate=_DIGEST,
        metadata=described("`sha256:` over the rule files; any edit changes it."),
    )


class UrgencySchema(ClosedSchema):
    """The one urgency level, with what to do and why."""

    level = fields.String(
        required=True,
        validate=validate.OneOf(URGENCY_LEVELS),
        metadata=described(
            "Lowest first: `self_care`; `routine` (see a GP or physiotherapist within weeks); "
            "`soon` (within days); `urgent` (same day, within 24 h); `emergency` (now).",
            # Named, because clients switch on it: one enum type shared by every use.
            **{COMPONENT: "UrgencyLevel"},
        ),
    )
    rank = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 4),
        metadata=described("Position of `level`, 0 (`self_care`) to 4 (`emergency`)."),
    )
    seek_care = fields.String(
        required=True, metadata=described("What to do and how soon, in words.")
    )
    reasons = _strings(
        required=True, metadata=described("Why this level, in terms of the person's answers.")
    )
    rule = fields.String(required=True, metadata=described("Id of the rule that set the level."))


class RedFlagSchema(ClosedSchema):
    """A serious pattern found, with the request fields that triggered it."""

    id = fields.String(
        required=True,
        metadata=described(
            "`cauda_equina`, `neurological_deficit`, `fracture`, `infection`, `malignancy`, "
            "`aortic_aneurysm` (more may be added)."
        ),
    )
    label = fields.String(required=True)
    explanation = fields.String(
        required=True,
        metadata=described(
            "In plain words, what the flag could mean and why it needs a clinician; never a "
            "diagnosis. A flag raised on age alone says so."
        ),
    )
    evidence = _strings(required=True, metadata=described("Request field paths that triggered it."))


class CauseSchema(ClosedSchema):
    """A likely or possible cause, explained in terms of the person's answers."""

    id = fields.String(
        required=True,
        metadata=described(
            "`refractory_period`, `muscle_guarding`, `reduced_flexibility`, "
            "`joint_restriction`, `facet_osteoarthritis`, `disc_problem`, "
            "`nerve_root_irritation`, `inflammatory_back_pain`, `osteoporosis` "
            "(more may be added)."
        ),
    )
    label = fields.String(required=True)
    likelihood = _enum(LIKELIHOODS, "Likelihood", required=True)
    score = fields.Float(required=True, validate=validate.Range(0, 1))
    explanation = fields.String(
        required=True, metadata=described("Why, in terms of the person's own answers.")
    )
    evidence = _strings(required=True)


def _dose_count(description: str) -> fields.Integer:
    return fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(1),
        metadata=described(description),
    )


class DoseDetailSchema(ClosedSchema):
    """A stretch's or therapy's dose as numbers, for apps that show timers or counters; each
    member is `null` when that part of the dose does not apply."""

    reps = _dose_count("Repetitions of the movement.")
    hold_seconds = _dose_count("Seconds to hold each repetition.")
    sets = _dose_count("Sets of repetitions.")
    times_per_day = _dose_count("Times a day.")
    minutes = _dose_count("Minutes each time.")
    days_per_week = _dose_count("Days a week.")


class RecommendationSchema(ClosedSchema):
    """Something to do: a referral, a precaution, a therapy or a stretch."""

    id = fields.String(required=True)
    type = _enum(RECOMMENDATION_TYPES, "RecommendationType", required=True)
    label = fields.String(required=True)
    instructions = fields.String(required=True)
    dose = fields.String(
        required=True,
        allow_none=True,
        metadata=described(
            "Reps, holds and times a day, for stretches and therapies; otherwise `null`."
        ),
    )
    dose_detail = fields.Nested(
        DoseDetailSchema,
        required=True,
        allow_none=True,
        metadata=described("`dose` as numbers; `null` where there is no dose."),
    )
    reason = fields.String(
        required=True, metadata=described("Why it is recommended for this person.")
    )


class QuestionOptionSchema(ClosedSchema):
    """One choice of a `choice` or `multi_choice` question."""

    value = fields.String(required=True, metadata=described("What to send in the request."))
    label = fields.String(required=True, metadata=described("What to show the person."))


class QuestionSchema(ClosedSchema):
    """An unanswered field whose answer could raise the urgency, typed so that an app can ask
    it without a form of its own: how it is answered (`type`), its choices (`options`), its
    range and unit, the highest level an answer could lead to (`raises_to`) and the lead
    questions it follows (`follows`)."""

    field = fields.String(
        required=True,
        metadata=described("The request field path to answer, e.g. `neuro.saddle_numbness`."),
    )
    text = fields.String(required=True)
    type = _enum(QUESTION_TYPES, "QuestionType", required=True)
    # Only what applies to the question's type is present: a yes/no question carries none
    # of these (an answer is smaller, and a client tests for a key, not for a null).
    options = fields.List(
        fields.Nested(QuestionOptionSchema),
        metadata=described(
            "The choices of a `choice` or `multi_choice` question, in the contract's order; "
            "absent for any other type. A `multi_choice` answer is a list (`[]`: none of them)."
        ),
    )
    minimum = fields.Float(
        metadata=described("The lowest answer of an `integer` or `number`; absent otherwise.")
    )
    maximum = fields.Float(
        metadata=described("The highest answer of an `integer` or `number`; absent otherwise.")
    )
    unit = fields.String(
        metadata=described(
            "The unit of an `integer` or `number`, in plain words (`minutes`); absent when the "
            "number has none (a 0 to 10 score) and for every other type."
        ),
    )
    # The same field as ``Urgency.level``, so it is the same ``UrgencyLevel`` component.
    raises_to = fields.String(
        required=True,
        validate=validate.OneOf(URGENCY_LEVELS),
        metadata=dict(UrgencySchema().fields["level"].metadata),
    )
    follows = _strings(
        metadata=described(
            "A follow-up question names its lead questions: it is asked only while not every "
            "lead was answered `false`. Absent when it is not a follow-up."
        ),
    )


class ContradictionWarningSchema(ClosedSchema):
    """Answers that contradict each other. (Not ``Warning``: that name is a built-in type in
    several languages clients are generated in.)"""

    code = fields.String(required=True)
    message = fields.String(required=True)
    # "fields" would shadow Schema.fields; the JSON name stays "fields".
    field_paths = _strings(required=True, data_key="fields")


class TraceMatchSchema(TolerantSchema):
    """A rule that matched, what it produced, and the guidance it encodes."""

    rule = fields.String(required=True)
    outputs = fields.Dict(metadata=described("Output name to value (any JSON value)."))
    source = fields.String(metadata=described("The key of the guidance the rule encodes."))
    citation = fields.String(
        allow_none=True, metadata=described("That guidance in full: title, authors, year, link.")
    )


class RuleDescriptionSchema(ClosedSchema):
    """One rule of a table: its id and the guidance it encodes."""

    id = fields.String(required=True)
    source = fields.String(required=True, metadata=described("The key of the guidance."))
    citation = fields.String(
        required=True,
        allow_none=True,
        metadata=described("That guidance in full: title, authors, year, link (null without one)."),
    )


class TracePartialSchema(TolerantSchema):
    """A rule whose answered conditions hold, but that also needs unanswered fields."""

    rule = fields.String(required=True)
    missing = _strings(required=True)


class TraceNearMissSchema(TolerantSchema):
    """A rule that failed on exactly one answered condition."""

    rule = fields.String(required=True)
    failed = fields.String()
    test = fields.String()
    missing = _strings()


class TraceEntrySchema(TolerantSchema):
    """One table's evaluation, for ``?explain=true``."""

    class Meta(TolerantSchema.Meta):
        description = (
            "One decision table's evaluation. For reading and debugging; its detail may grow "
            "between ruleset versions, so do not build logic on it."
        )

    table = fields.String(required=True)
    hit_policy = _enum(HIT_POLICIES, "HitPolicy", required=True)
    matched = fields.List(
        fields.Nested(TraceMatchSchema),
        required=True,
        metadata=described("The rules that matched, with what they produced."),
    )
    # "partial" would shadow Schema.partial; the JSON name stays "partial".
    partial_matches = fields.List(
        fields.Nested(TracePartialSchema),
        data_key="partial",
        metadata=described(
            "Rules whose answered conditions hold but that also need unanswered fields."
        ),
    )
    near_misses = fields.List(
        fields.Nested(TraceNearMissSchema),
        metadata=described("Rules that failed on exactly one answered condition, naming it."),
    )
    # Any JSON value, null included.
    value = fields.Raw(
        allow_none=True, metadata=described("What the table passes on to tables that read it.")
    )


class AssessmentSchema(ClosedSchema):
    """The whole ``POST /assess`` response."""

    id = fields.UUID(required=True, metadata=described("This assessment."))
    ruleset = fields.Nested(RulesetRefSchema, required=True)
    urgency = fields.Nested(UrgencySchema, required=True)
    red_flags = fields.List(fields.Nested(RedFlagSchema), required=True)
    causes = fields.List(
        fields.Nested(CauseSchema), required=True, metadata=described("Most likely first.")
    )
    recommendations = fields.List(fields.Nested(RecommendationSchema), required=True)
    questions = fields.List(
        fields.Nested(QuestionSchema),
        required=True,
        metadata=described("Unanswered fields whose answer could raise the urgency."),
    )
    warnings = fields.List(
        fields.Nested(ContradictionWarningSchema),
        required=True,
        metadata=described(
            "Answers that contradict each other. A warning never raises or lowers urgency "
            "on its own."
        ),
    )
    disclaimer = fields.String(
        required=True, metadata=described("Not a diagnosis; seek care when worried.")
    )
    trace = fields.List(
        fields.Nested(TraceEntrySchema),
        metadata=described("Only with `explain=true`. Each table evaluated, in evaluation order."),
    )


# ---------------------------------------------------------------- GET /rules


class TableDescriptionSchema(ClosedSchema):
    """One decision table, as ``GET /rules`` lists it."""

    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    hit_policy = _enum(HIT_POLICIES, "HitPolicy", required=True)
    aggregation = _enum(AGGREGATIONS, "Aggregation", allow_none=True)
    inputs = _strings(
        required=True,
        metadata=described(
            "Facts the table reads (request field paths, derived facts, `<table>.<output>`)."
        ),
    )
    outputs = _strings(required=True)
    rule_count = fields.Integer(required=True, strict=True, validate=validate.Range(0))
    rules = fields.List(
        fields.Nested(RuleDescriptionSchema),
        required=True,
        metadata=described("Each rule, in table order, with the guidance it encodes."),
    )


class VocabularyEntrySchema(ClosedSchema):
    """An id the service can return, with its label; urgency levels add ``rank`` and
    ``seek_care``, recommendations their ``type``."""

    id = fields.String(required=True)
    label = fields.String(required=True)
    rank = fields.Integer(strict=True, validate=validate.Range(0, 4))
    seek_care = fields.String()
    type = _enum(RECOMMENDATION_TYPES, "RecommendationType")


class RulesetDescriptionSchema(ClosedSchema):
    """The ``GET /rules`` body."""

    name = fields.String(required=True)
    version = fields.String(required=True, metadata=described(_VERSION))
    digest = fields.String(required=True, validate=_DIGEST)
    tables = fields.List(
        fields.Nested(TableDescriptionSchema),
        required=True,
        metadata=described("In evaluation (dependency) order."),
    )
    vocabulary = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(VocabularyEntrySchema)),
        required=True,
        metadata=described(
            "Every id the service can return, by kind (`urgency`, `red_flags`, `causes`, "
            "`likelihood`, `recommendations`, `warnings`, `questions`), with its label. "
            "Urgency levels also carry `rank` and `seek_care`; recommendations their `type`."
        ),
    )


# ---------------------------------------------------------------- probes and errors


class HealthSchema(TolerantSchema):
    """``/healthz``, ``/livez``, ``/readyz`` (``application/health+json``)."""

    status = _enum(HEALTH_STATUSES, "HealthStatus", required=True)


def _field_errors(**kwargs: Any) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(), validate=validate.Length(min=1)),
        metadata=described(
            "Dotted field path (`pain.level`, `muscles.tight.2`) to its messages.",
            **{COMPONENT: "FieldErrors"},
        ),
        **kwargs,
    )


class ProblemSchema(TolerantSchema):
    """Every error body (RFC 9457, ``application/problem+json``)."""

    class Meta(TolerantSchema.Meta):
        description = "RFC 9457 problem details."

    type = fields.String(
        required=True,
        metadata=described(
            "`about:blank`: the status code says what kind of problem it is.",
            format="uri-reference",
        ),
    )
    title = fields.String(required=True, metadata=described("The HTTP status phrase."))
    status = fields.Integer(required=True, strict=True, validate=validate.Range(400, 599))
    detail = fields.String(
        required=True,
        metadata=described("What went wrong with this request, for a person to read."),
    )
    errors = _field_errors()


class ValidationProblemSchema(ProblemSchema):
    """The 422 body: a problem whose ``errors`` map is always there.

    A schema of its own (not ``allOf`` a problem and a patch) so that client generators give
    the 422 one type, with ``errors`` required.
    """

    status = fields.Integer(required=True, strict=True, validate=validate.Equal(422))
    errors = _field_errors(required=True)
