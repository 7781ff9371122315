"""``AssessmentRequest``: the body of ``POST /assess``.

Only ``age`` is required. Every other field may be absent or ``null``; both mean "not
answered" and are kept apart from ``false`` ("no"): absent keys stay absent in the loaded
dict and ``null`` stays ``None``, so the engine sees exactly what the person said.
Unknown fields are errors at every level, because a misspelled red-flag field silently
ignored would turn a "yes" into "not answered".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from service.schemas.fields import StrictBoolean, StrictInteger, StrictNumber

ONSET = ("sudden", "gradual")
RANGE_OF_MOTION = ("full", "reduced", "very_limited")
TIGHT_MUSCLES = ("lower_back", "upper_back", "hips", "hamstrings", "glutes", "core")
RECENT_TRAUMA = ("none", "minor", "major")


class StrictSchema(Schema):
    """Base for every request schema: unknown fields raise, at every nesting level."""

    class Meta:
        unknown = RAISE


def _int(low: int, high: int, *, required: bool = False) -> StrictInteger:
    if required:
        return StrictInteger(required=True, validate=validate.Range(low, high))
    return StrictInteger(allow_none=True, validate=validate.Range(low, high))


def _number(low: float, high: float) -> StrictNumber:
    return StrictNumber(allow_none=True, validate=validate.Range(low, high))


def _bool() -> StrictBoolean:
    return StrictBoolean(allow_none=True)


def _enum(values: Sequence[str]) -> fields.String:
    return fields.String(allow_none=True, validate=validate.OneOf(values))


def unique_items(items: list[Any]) -> None:
    """Validator: a list's items are unique (JSON Schema ``uniqueItems``)."""
    if len(set(items)) != len(items):
        raise ValidationError("Items must be unique.")


class EnumSet(fields.List[str]):
    """A list of distinct values from ``choices`` (JSON Schema ``uniqueItems`` with ``maxItems``
    equal to the number of choices).

    A longer list cannot be unique, so it is refused whole, before any item is read: read
    item by item, a 54 KB body of 6,000 unknown areas cost 80 ms and a 590 KB answer naming
    each one.
    """

    def __init__(self, choices: Sequence[str], **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=validate.OneOf(choices)), validate=unique_items, **kwargs
        )
        self.max_items = len(choices)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[str | None]:
        if isinstance(value, list) and len(value) > self.max_items:
            raise ValidationError(f"Longer than maximum length {self.max_items}.")
        return super()._deserialize(value, attr, data, **kwargs)


def _enum_set(values: Sequence[str]) -> EnumSet:
    # An empty list is an answer ("nothing feels tight"), distinct from null.
    return EnumSet(values, allow_none=True)


class PainSchema(StrictSchema):
    """``pain``: current back pain and how it behaves."""

    level = _int(0, 10)
    radiates_to_leg = _bool()
    below_knee = _bool()
    worse_at_night = _bool()
    worse_with_rest = _bool()
    eased_lying_down = _bool()


class NeuroSchema(StrictSchema):
    """``neuro``: leg and saddle symptoms (the cauda equina questions live here)."""

    numbness = _bool()
    tingling = _bool()
    leg_weakness = _bool()
    weakness_worsening = _bool()
    both_legs = _bool()
    saddle_numbness = _bool()
    bladder_or_bowel_change = _bool()


class StiffnessSchema(StrictSchema):
    """``stiffness``: morning stiffness, range of motion, a stuck spot."""

    morning_minutes = _int(0, 1440)
    improves_with_movement = _bool()
    range_of_motion = _enum(RANGE_OF_MOTION)
    localized = _bool()


class MusclesSchema(StrictSchema):
    """``muscles``: which areas feel tight, and spasm."""

    tight = _enum_set(TIGHT_MUSCLES)
    spasm = _bool()


class LifestyleSchema(StrictSchema):
    """``lifestyle``: sitting, activity, strain and posture."""

    sitting_hours_per_day = _number(0, 24)
    active_days_per_week = _int(0, 7)
    repetitive_strain = _bool()
    poor_posture = _bool()


class HistorySchema(StrictSchema):
    """``history``: trauma and conditions that change what is safe or likely."""

    recent_trauma = _enum(RECENT_TRAUMA)
    osteoporosis = _bool()
    osteoarthritis = _bool()
    disc_problem = _bool()
    ankylosing_spondylitis = _bool()
    cancer = _bool()
    long_term_steroids = _bool()
    immunosuppressed = _bool()
    iv_drug_use = _bool()


class SystemicSchema(StrictSchema):
    """``systemic``: whole-body signs."""

    fever = _bool()
    unexplained_weight_loss = _bool()


class AssessmentRequestSchema(StrictSchema):
    """The whole request. Loads into a plain nested dict for ``Assessor.assess``."""

    age = _int(16, 120, required=True)
    last_pop_minutes_ago = _int(0, 52_560_000)
    duration_days = _int(0, 36_500)
    onset = _enum(ONSET)
    pain = fields.Nested(PainSchema, allow_none=True)
    neuro = fields.Nested(NeuroSchema, allow_none=True)
    stiffness = fields.Nested(StiffnessSchema, allow_none=True)
    muscles = fields.Nested(MusclesSchema, allow_none=True)
    lifestyle = fields.Nested(LifestyleSchema, allow_none=True)
    history = fields.Nested(HistorySchema, allow_none=True)
    systemic = fields.Nested(SystemicSchema, allow_none=True)
