"""``AssessmentRequest``: the body of ``POST /assess``.

Only ``age`` is required. Every other field may be absent or ``null``; both mean "not
answered" and are kept apart from ``false`` ("no"): absent keys stay absent in the loaded
dict and ``null`` stays ``None``, so the engine sees exactly what the person said.
Unknown fields are errors at every level, because a misspelled red-flag field silently
ignored would turn a "yes" into "not answered".

This module is the one declaration of the request contract. ``openapi.yaml``'s request
components are generated from it (``make spec``, through ``service/schemas/openapi.py``),
``service/facts.py`` derives the facts the rule tables read from it, and ``fastpath.py``
compiles its loader from it. A field's ``metadata["description"]`` is the text callers read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields, validate

from popcheck.schemas.base import ClosedSchema, described
from popcheck.schemas.fields import EnumSet, StrictBoolean, StrictInteger, StrictNumber
from popcheck.schemas.openapi import COMPONENT

# Each choice with its plain-language label: what an app shows for it (the typed questions of
# an assessment, the FHIR Questionnaire). Every value needs a label; the order is the
# contract's.
ONSET_LABELS = {"sudden": "Suddenly", "gradual": "Slowly, over time"}
RANGE_OF_MOTION_LABELS = {
    "full": "Fully, as usual",
    "reduced": "Less than usual",
    "very_limited": "Very little",
}
TIGHT_MUSCLES_LABELS = {
    "lower_back": "Lower back",
    "upper_back": "Upper back",
    "hips": "Hips",
    "hamstrings": "Back of the thighs (hamstrings)",
    "glutes": "Buttocks (glutes)",
    "core": "Belly and sides (core)",
}
RECENT_TRAUMA_LABELS = {
    "none": "No fall or injury",
    "minor": "Minor: a fall from standing, a lifting strain",
    "major": "Major: a road accident, a fall from a height",
}
COURSE_LABELS = {
    "improving": "Getting better",
    "unchanged": "Staying the same",
    "worse": "Getting worse",
}
ONSET = tuple(ONSET_LABELS)
RANGE_OF_MOTION = tuple(RANGE_OF_MOTION_LABELS)
TIGHT_MUSCLES = tuple(TIGHT_MUSCLES_LABELS)
RECENT_TRAUMA = tuple(RECENT_TRAUMA_LABELS)
COURSE = tuple(COURSE_LABELS)


def _doc(description: str, unit: str | None = None) -> dict[str, Any]:
    # The caller-facing text of a field; apispec copies it into openapi.yaml (make spec).
    # ``unit`` (plain language, e.g. "minutes") and ``labels`` (by choice) are not OpenAPI
    # keywords, so apispec leaves them out; the typed questions and the FHIR Questionnaire
    # read them (service/schemas/interview.py).
    return described(description) if unit is None else described(description, unit=unit)


def _int(
    low: int, high: int, description: str, *, required: bool = False, unit: str | None = None
) -> StrictInteger:
    if required:
        return StrictInteger(
            required=True, validate=validate.Range(low, high), metadata=_doc(description, unit)
        )
    return StrictInteger(
        allow_none=True, validate=validate.Range(low, high), metadata=_doc(description, unit)
    )


def _number(low: float, high: float, description: str, *, unit: str | None = None) -> StrictNumber:
    return StrictNumber(
        allow_none=True, validate=validate.Range(low, high), metadata=_doc(description, unit)
    )


def _bool(description: str) -> StrictBoolean:
    return StrictBoolean(allow_none=True, metadata=_doc(description))


def _enum(labels: Mapping[str, str], component: str, description: str) -> fields.String:
    # Every enum is a named component in openapi.yaml (one type in a generated client); the
    # property is that component or null. ``labels`` give each value's plain words.
    return fields.String(
        allow_none=True,
        validate=validate.OneOf(tuple(labels)),
        metadata={**_doc(description), COMPONENT: component, "labels": dict(labels)},
    )


def _enum_set(labels: Mapping[str, str], component: str, description: str) -> EnumSet:
    # An empty list is an answer ("nothing feels tight"), distinct from null. `component`
    # names the enum of the items.
    return EnumSet(
        tuple(labels),
        item_metadata={COMPONENT: component},
        allow_none=True,
        metadata={**_doc(description), "labels": dict(labels)},
    )


class PainSchema(ClosedSchema):
    """``pain``: current back pain and how it behaves."""

    level = _int(
        0,
        10,
        "Worst pain now, in the back or a leg, 0 (none) to 10 (worst imaginable). (v1.0 said "
        "back pain; a caller that asks about the back loses nothing.)",
    )
    radiates_to_leg = _bool("Pain travels into buttock or leg.")
    below_knee = _bool("Leg pain reaches below the knee.")
    worse_at_night = _bool("Pain at night, or pain that wakes them.")
    worse_with_rest = _bool("Rest does not help; better with activity.")
    eased_lying_down = _bool("Severe pain that eases only lying down.")
    thoracic = _bool("Pain in the upper or middle back, between the shoulder blades.")
    constant_progressive = _bool(
        "Constant pain that keeps getting worse, whatever the position or activity."
    )
    abdominal = _bool("Pain in the belly as well as the back.")
    band_like = _bool("Pain that spreads round the body like a band.")
    buttock = _bool("Pain deep in one or both buttocks.")
    heel = _bool(
        "Now or in the past: pain where a tendon joins the bone, such as the back or sole of "
        "the heel."
    )
    wakes_second_half_night = _bool("The back pain wakes them in the second half of the night.")
    eases_with_anti_inflammatories = _bool(
        "The pain gets much better within two days of taking anti-inflammatory painkillers "
        "(asked, never advised)."
    )


class NeuroSchema(ClosedSchema):
    """``neuro``: leg and saddle symptoms (the cauda equina questions live here)."""

    numbness = _bool("Numbness in leg or foot.")
    tingling = _bool("Pins and needles in leg or foot.")
    leg_weakness = _bool("Leg or foot weakness.")
    weakness_worsening = _bool("Weakness getting worse.")
    both_legs = _bool("Leg symptoms in both legs.")
    saddle_numbness = _bool("Numbness around genitals, buttocks or inner thighs.")
    bladder_or_bowel_change = _bool("New trouble passing or holding urine or stool.")
    sexual_dysfunction = _bool(
        "Since the back problem began: new numbness of the genitals, or new problems with "
        "erection, ejaculation or feeling during sex."
    )
    urinary_retention = _bool(
        "Since the back problem began: cannot pass urine, or cannot feel when the bladder is full."
    )
    incontinence = _bool("New loss of control of the bladder or bowel.")
    gait_change = _bool(
        "New difficulty walking because a leg feels weak, numb or clumsy, or new unsteadiness "
        "or falls (not only because walking hurts)."
    )


class StiffnessSchema(ClosedSchema):
    """``stiffness``: morning stiffness, range of motion, a stuck spot."""

    morning_minutes = _int(0, 1440, "Morning stiffness duration.", unit="minutes")
    improves_with_movement = _bool("Stiffness and pain ease with exercise.")
    range_of_motion = _enum(
        RANGE_OF_MOTION_LABELS, "RangeOfMotion", "How far they can bend and twist."
    )
    localized = _bool("One specific spot feels stuck.")


class MusclesSchema(ClosedSchema):
    """``muscles``: which areas feel tight, and spasm."""

    tight = _enum_set(
        TIGHT_MUSCLES_LABELS,
        "TightMuscle",
        "Areas that feel tight. `[]` means none (an answer); `null` means not answered.",
    )
    spasm = _bool("Muscle spasm.")


class LifestyleSchema(ClosedSchema):
    """``lifestyle``: sitting, activity, strain and posture."""

    sitting_hours_per_day = _number(0, 24, "Hours sitting on a typical day.", unit="hours")
    active_days_per_week = _int(
        0, 7, "Days with 30 or more minutes of activity.", unit="days per week"
    )
    repetitive_strain = _bool("Repetitive lifting, bending or twisting.")
    poor_posture = _bool("Long periods hunched or slumped.")


class HistorySchema(ClosedSchema):
    """``history``: trauma and conditions that change what is safe or likely."""

    recent_trauma = _enum(
        RECENT_TRAUMA_LABELS,
        "RecentTrauma",
        "In recent weeks: `minor` (fall from standing, lifting strain) or `major` (road "
        "accident, fall from height).",
    )
    osteoporosis = _bool("Known osteoporosis (thin or weak bones).")
    osteoarthritis = _bool("Known osteoarthritis of the spine.")
    disc_problem = _bool("Known bulging or herniated disc.")
    ankylosing_spondylitis = _bool("Known ankylosing spondylitis (axial spondyloarthritis).")
    cancer = _bool("Any past cancer.")
    long_term_steroids = _bool("Months of oral corticosteroids.")
    immunosuppressed = _bool("Less able to fight infection (illness or treatment).")
    iv_drug_use = _bool("Has injected drugs.")
    active_cancer = _bool(
        "Has cancer now or is being treated for it. True implies `history.cancer` true."
    )
    recent_spinal_procedure = _bool("Spinal surgery or a spinal injection in the last 3 months.")
    recent_infection = _bool(
        "An infection treated with antibiotics in the last few weeks, such as a urine or skin "
        "infection."
    )
    aortic_aneurysm = _bool("Told they have a widened main artery in the belly (aortic aneurysm).")
    psoriasis = _bool("Psoriasis, now or in the past.")
    inflammatory_bowel_disease = _bool("Crohn's disease or ulcerative colitis.")
    uveitis = _bool("An inflamed, painful, red eye diagnosed as uveitis or iritis.")
    other_joint_arthritis = _bool(
        "Now or in the past: joints elsewhere that swelled up (puffy, warm), not wear-and-tear "
        "aches."
    )
    family_spondyloarthritis = _bool(
        "A parent, brother, sister or child with ankylosing spondylitis, psoriatic arthritis, "
        "reactive arthritis, or arthritis linked to Crohn's disease or colitis."
    )
    hla_b27_positive = _bool("A blood test found HLA-B27.")


class SystemicSchema(ClosedSchema):
    """``systemic``: whole-body signs."""

    fever = _bool("Fever now or recently.")
    unexplained_weight_loss = _bool("Weight loss without trying.")
    feels_very_unwell = _bool(
        "New confusion, very breathless, or pale, grey, blotchy or cold clammy skin."
    )
    fainted = _bool("Fainted or collapsed since the pain began.")
    abdominal_pulsing = _bool("A pulsing or throbbing feeling in the belly.")


class AssessmentRequestSchema(ClosedSchema):
    """The whole request. Loads into a plain nested dict for ``Assessor.assess``."""

    class Meta(ClosedSchema.Meta):
        description = (
            "One person's answers. Only `age` is required. Absent or `null` means not "
            'answered; `false` means "no".'
        )

    age = _int(
        16,
        120,
        "Years. Guidance covers 16 and over; younger is 422.",
        required=True,
        unit="years",
    )
    last_pop_minutes_ago = _int(
        0, 52_560_000, "Minutes since the back last popped (up to 100 years).", unit="minutes"
    )
    duration_days = _int(
        0,
        36_500,
        "How long the current problem (no pop, stiffness or pain) has lasted.",
        unit="days",
    )
    onset = _enum(ONSET_LABELS, "Onset", "How the current problem began.")
    course = _enum(
        COURSE_LABELS, "Course", "How the problem has changed over the last week or two."
    )
    pain = fields.Nested(PainSchema, allow_none=True)
    neuro = fields.Nested(NeuroSchema, allow_none=True)
    stiffness = fields.Nested(StiffnessSchema, allow_none=True)
    muscles = fields.Nested(MusclesSchema, allow_none=True)
    lifestyle = fields.Nested(LifestyleSchema, allow_none=True)
    history = fields.Nested(HistorySchema, allow_none=True)
    systemic = fields.Nested(SystemicSchema, allow_none=True)
