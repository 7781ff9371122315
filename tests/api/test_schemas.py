"""The request schema on its own: strict types, ranges, enums, unknown fields, and the
difference between absent, null and false."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from popcheck.facts import FACTS, REQUEST_FIELDS
from popcheck.schemas import AssessmentRequestSchema, flatten_messages
from popcheck.schemas.request import TIGHT_MUSCLES

SCHEMA = AssessmentRequestSchema()


def errors_of(document: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        SCHEMA.load(document)
    return flatten_messages(caught.value.messages)


@pytest.mark.parametrize(("value", "loaded"), [(14, 14), (14.0, 14), (0, 0), (-0.0, 0)])
def test_integers_accept_integral_numbers(value: float, loaded: int) -> None:
    result = SCHEMA.load({"age": 40, "duration_days": value})
    assert result["duration_days"] == loaded
    assert type(result["duration_days"]) is int


@pytest.mark.parametrize(
    "value", [14.5, "14", True, False, [14], {"v": 14}, 1e309, float("nan"), 2.58e-42]
)
def test_integers_reject_everything_else(value: Any) -> None:
    assert errors_of({"age": 40, "duration_days": value}) == {
        "duration_days": ["Not a valid integer."]
    }


@pytest.mark.parametrize("value", [0, 7.5, 24, 24.0])
def test_numbers_accept_finite_numbers_in_range(value: float) -> None:
    result = SCHEMA.load({"age": 40, "lifestyle": {"sitting_hours_per_day": value}})
    assert result["lifestyle"]["sitting_hours_per_day"] == value


@pytest.mark.parametrize("value", ["7", True, 1e309, float("-inf"), float("nan"), [7]])
def test_numbers_reject_non_numbers(value: Any) -> None:
    assert errors_of({"age": 40, "lifestyle": {"sitting_hours_per_day": value}}) == {
        "lifestyle.sitting_hours_per_day": ["Not a valid number."]
    }


@pytest.mark.parametrize("value", [1, 0, "true", "yes", "", [], 1.0])
def test_booleans_reject_numbers_and_strings(value: Any) -> None:
    assert errors_of({"age": 40, "neuro": {"saddle_numbness": value}}) == {
        "neuro.saddle_numbness": ["Not a valid boolean."]
    }


def _ranges(schema: Schema, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(field path, lowest valid, highest valid)`` of every field with a ``Range``."""
    found: list[tuple[str, Any, Any]] = []
    for name, field in schema.fields.items():
        if isinstance(field, fields.Nested):
            found += _ranges(field.schema, f"{prefix}{name}.")
        for validator in field.validators:
            if isinstance(validator, validate.Range):
                found.append((f"{prefix}{name}", validator.min, validator.max))
    return found


# Read from the schema: the contract is declared there once. The tests below hold each bound
# to its behaviour (inclusive, refused one step beyond, marshmallow's message).
RANGES = _ranges(SCHEMA)


def test_every_number_field_has_its_range_tested() -> None:
    numbers = {path for path, spec in FACTS.items() if spec.range and path in REQUEST_FIELDS}
    assert {path for path, _, _ in RANGES} == numbers


def _at(path: str, value: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"age": 40}
    head, _, tail = path.partition(".")
    if tail:
        document[head] = {tail: value}
    else:
        document[head] = value
    return document


@pytest.mark.parametrize(("path", "low", "high"), RANGES)
def test_ranges_are_the_contract(path: str, low: int, high: int) -> None:
    SCHEMA.load(_at(path, low))
    SCHEMA.load(_at(path, high))
    message = f"Must be greater than or equal to {low} and less than or equal to {high}."
    assert errors_of(_at(path, low - 1)) == {path: [message]}
    assert errors_of(_at(path, high + 1)) == {path: [message]}


def test_age_is_required_and_not_nullable() -> None:
    assert errors_of({}) == {"age": ["Missing data for required field."]}
    assert errors_of({"age": None}) == {"age": ["Field may not be null."]}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("onset", "slow"),
        ("stiffness.range_of_motion", "none"),
        ("history.recent_trauma", "MAJOR"),
        ("onset", 1),
    ],
)
def test_enums_reject_unknown_values(path: str, value: Any) -> None:
    assert path in errors_of(_at(path, value))


def test_tight_muscles_are_a_unique_list_of_known_areas() -> None:
    loaded = SCHEMA.load({"age": 40, "muscles": {"tight": ["hips", "core"]}})
    assert loaded["muscles"]["tight"] == ["hips", "core"]
    assert errors_of({"age": 40, "muscles": {"tight": ["hips", "hips"]}}) == {
        "muscles.tight": ["Items must be unique."]
    }
    assert errors_of({"age": 40, "muscles": {"tight": ["hips", "core", "toes"]}}) == {
        "muscles.tight.2": [
            "Must be one of: lower_back, upper_back, hips, hamstrings, glutes, core."
        ]
    }
    assert errors_of({"age": 40, "muscles": {"tight": "hips"}}) == {
        "muscles.tight": ["Not a valid list."]
    }


@pytest.mark.parametrize("items", [["hips"] * 7, ["toes"] * 6000, list(TIGHT_MUSCLES) + ["core"]])
def test_more_tight_areas_than_there_are_is_one_error_for_the_list(items: list[str]) -> None:
    # Refused whole, before any item is read: not one error (and one check) per item.
    assert errors_of({"age": 40, "muscles": {"tight": items}}) == {
        "muscles.tight": ["Longer than maximum length 6."]
    }


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"age": 40, "bogus": 1}, "bogus"),
        ({"age": 40, "pain": {"levle": 3}}, "pain.levle"),
        ({"age": 40, "neuro": {"saddle_numbnes": True}}, "neuro.saddle_numbnes"),
        ({"age": 40, "stiffness": {"x": None}}, "stiffness.x"),
        ({"age": 40, "muscles": {"x": None}}, "muscles.x"),
        ({"age": 40, "lifestyle": {"x": None}}, "lifestyle.x"),
        ({"age": 40, "history": {"x": None}}, "history.x"),
        ({"age": 40, "systemic": {"x": None}}, "systemic.x"),
    ],
)
def test_unknown_fields_are_errors_at_every_level(document: dict[str, Any], path: str) -> None:
    assert errors_of(document) == {path: ["Unknown field."]}


def test_absent_null_and_false_stay_distinct() -> None:
    loaded = SCHEMA.load(
        {"age": 40, "neuro": {"saddle_numbness": None, "both_legs": False}, "systemic": None}
    )
    assert loaded == {
        "age": 40,
        "neuro": {"saddle_numbness": None, "both_legs": False},
        "systemic": None,
    }
    assert "bladder_or_bowel_change" not in loaded["neuro"]
    assert "pain" not in loaded


def test_a_section_must_be_an_object() -> None:
    assert errors_of({"age": 40, "pain": 5}) == {"pain": ["Invalid input type."]}


def test_every_error_is_reported_at_once() -> None:
    errors = errors_of({"age": 12, "onset": "slow", "pain": {"level": 11, "x": 1}})
    assert set(errors) == {"age", "onset", "pain.level", "pain.x"}


def test_flatten_messages_nesting_and_schema_errors() -> None:
    messages = {
        "muscles": {"tight": {2: ["bad"]}},
        "pain": {"_schema": ["Invalid input type."]},
        "_schema": ["whole"],
    }
    assert flatten_messages(messages) == {
        "muscles.tight.2": ["bad"],
        "pain": ["Invalid input type."],
        "": ["whole"],
    }
