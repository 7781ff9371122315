"""``popcheck.facts``: the declared facts match the contract, and ``to_facts`` flattens a request
and derives what the tables read, never turning a missing answer into a "no"."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from popcheck.engine import FactSpec, FactType
from popcheck.facts import (
    DERIVED_SOURCES,
    FACTS,
    REQUEST_FIELDS,
    UnknownFieldError,
    _request_facts,
    to_facts,
)
from popcheck.schemas import AssessmentRequestSchema
from popcheck.schemas.fields import StrictInteger

SCHEMA = AssessmentRequestSchema()


def _leaves(schema: Schema, prefix: str = "") -> list[str]:
    """Every leaf field of ``schema`` by dotted path, in declaration order."""
    paths: list[str] = []
    for name, field in schema.fields.items():
        if isinstance(field, fields.Nested):
            paths += _leaves(field.schema, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def _at(path: str, value: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"age": 40}
    head, _, tail = path.partition(".")
    document[head] = {tail: value} if tail else value
    return document


def _accepted(spec: FactSpec) -> list[Any]:
    """Values a fact of ``spec`` may hold, its bounds included."""
    match spec.type:
        case FactType.INT:
            assert spec.range is not None
            return [int(spec.range[0]), int(spec.range[1])]
        case FactType.NUMBER:
            assert spec.range is not None
            return [spec.range[0], spec.range[1], sum(spec.range) / 2]
        case FactType.ENUM:
            return list(spec.values)
        case FactType.ENUM_LIST:
            return [[], list(spec.values)]
        case _:
            return [True, False]


def _refused(spec: FactSpec) -> list[Any]:
    """Values just outside what a fact of ``spec`` may hold."""
    match spec.type:
        case FactType.INT:
            assert spec.range is not None
            return [int(spec.range[0]) - 1, int(spec.range[1]) + 1, 1.5]
        case FactType.NUMBER:
            assert spec.range is not None
            return [spec.range[0] - 0.5, spec.range[1] + 0.5, True]
        case FactType.ENUM:
            return [f"not-{spec.values[0]}", 1]
        case FactType.ENUM_LIST:
            return [[f"not-{spec.values[0]}"], [spec.values[0]] * 2]
        case _:
            return [1, "true"]


def test_every_request_field_is_a_fact_in_schema_order() -> None:
    assert REQUEST_FIELDS == tuple(_leaves(SCHEMA))
    assert list(FACTS)[: len(REQUEST_FIELDS)] == list(REQUEST_FIELDS)


@pytest.mark.parametrize("path", REQUEST_FIELDS)
def test_a_fact_holds_exactly_what_the_schema_accepts(path: str) -> None:
    # A fact's type, range and values are what the tables are checked against: each must be
    # what validation lets through, bounds included, and nothing beyond.
    spec = FACTS[path]
    assert spec.nullable
    for value in _accepted(spec):
        facts = to_facts(SCHEMA.load(_at(path, value)))
        assert facts[path] == value, (path, value)
    for value in _refused(spec):
        with pytest.raises(ValidationError):
            SCHEMA.load(_at(path, value))


def test_each_kind_of_field_gives_its_fact_type() -> None:
    assert FACTS["age"] == FactSpec(FactType.INT, range=(16.0, 120.0))
    assert FACTS["lifestyle.sitting_hours_per_day"].type is FactType.NUMBER
    assert FACTS["neuro.saddle_numbness"] == FactSpec(FactType.BOOL)
    assert FACTS["onset"] == FactSpec(FactType.ENUM, values=("sudden", "gradual"))
    assert FACTS["muscles.tight"].type is FactType.ENUM_LIST


class _FreeText(Schema):
    note = fields.String(allow_none=True)


class _HalfOpen(Schema):
    count = StrictInteger(allow_none=True, validate=validate.Range(0))


class _CoercingInteger(Schema):
    count = fields.Integer(allow_none=True, validate=validate.Range(0, 9))


class _ListOfObjects(Schema):
    items = fields.Nested(_FreeText, many=True)


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (_FreeText, "note"),
        (_HalfOpen, "count"),
        (_CoercingInteger, "count"),
        (_ListOfObjects, "items"),
    ],
)
def test_a_field_the_tables_cannot_type_stops_the_import(schema: type[Schema], path: str) -> None:
    # Never skipped: a request field that is no fact would be refused by to_facts at run time.
    with pytest.raises(TypeError, match=repr(path)):
        list(_request_facts(schema()))


def test_derived_facts_name_their_request_sources() -> None:
    derived = set(FACTS) - set(REQUEST_FIELDS)
    assert derived == set(DERIVED_SOURCES)
    for sources in DERIVED_SOURCES.values():
        assert set(sources) <= set(REQUEST_FIELDS)


def test_flattens_sections_and_leaves_every_other_fact_unanswered() -> None:
    facts = to_facts({"age": 40, "pain": {"level": 3}, "muscles": {"tight": ["hips"]}})
    assert set(facts) == set(FACTS)
    assert facts["age"] == 40
    assert facts["pain.level"] == 3
    assert facts["muscles.tight"] == ["hips"]
    assert facts["neuro.saddle_numbness"] is None
    assert facts["onset_age"] is None  # no duration: unknown, not 40


def test_lists_are_copied_not_shared() -> None:
    tight = ["hips"]
    facts = to_facts({"age": 40, "muscles": {"tight": tight}})
    facts["muscles.tight"].append("core")
    assert tight == ["hips"]


def test_a_section_sent_as_null_is_unanswered() -> None:
    facts = to_facts({"age": 40, "neuro": None})
    assert facts["neuro.saddle_numbness"] is None


@pytest.mark.parametrize(
    ("age", "days", "onset_age"),
    [(44, 1461, 40.0), (43, 1461, 39.0), (30, 0, 30.0), (16, 36500, 16 - 36500 / 365.25)],
)
def test_onset_age_is_age_minus_duration(age: int, days: int, onset_age: float) -> None:
    assert to_facts({"age": age, "duration_days": days})["onset_age"] == pytest.approx(onset_age)


def test_onset_age_exactly_forty_is_exact() -> None:
    # The ASAS boundary case relies on 1461 days being exactly four years.
    assert to_facts({"age": 44, "duration_days": 1461})["onset_age"] == 40.0


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, None),
        ({"pain": {"radiates_to_leg": True}}, True),
        ({"neuro": {"tingling": True, "numbness": False}}, True),
        ({"pain": {"radiates_to_leg": False, "below_knee": False}}, None),
        (
            {
                "pain": {"radiates_to_leg": False, "below_knee": False},
                "neuro": {
                    "numbness": False,
                    "tingling": False,
                    "leg_weakness": False,
                    "gait_change": False,
                },
            },
            False,
        ),
    ],
)
def test_leg_symptoms_is_false_only_when_every_leg_question_is_no(
    answers: dict[str, Any], expected: bool | None
) -> None:
    assert to_facts({"age": 40, **answers})["leg_symptoms"] is expected


@pytest.mark.parametrize(
    "request_body",
    [
        {"age": 40, "neuro": {"sadle_numbness": True}},
        {"age": 40, "fever": True},
        {"age": 40, "systemic": {"fever": True, "chills": True}},
    ],
)
def test_unknown_fields_are_refused_not_ignored(request_body: dict[str, Any]) -> None:
    with pytest.raises(UnknownFieldError):
        to_facts(request_body)


@pytest.mark.parametrize(
    ("request_body", "path"),
    [
        ({"age": 40, "neuro": {"sadle_numbness": True}}, "neuro.sadle_numbness"),
        ({"age": 40, "fever": True}, "fever"),
        ({"age": 40, "systemic": {"fever": True, "chills": True}}, "systemic.chills"),
        ({"age": 40, "bogus": None}, "bogus"),
        ({"age": 40, "pain": 3}, "pain"),
        ({"age": 40, "habits": {"smoking": True}}, "habits.smoking"),
    ],
)
def test_an_unknown_field_is_named_by_its_path(request_body: dict[str, Any], path: str) -> None:
    with pytest.raises(UnknownFieldError) as raised:
        to_facts(request_body)
    assert raised.value.args == (path,)


@pytest.mark.parametrize(
    "section", sorted({field.split(".", 1)[0] for field in REQUEST_FIELDS if "." in field})
)
def test_every_section_sent_as_null_is_all_unanswered(section: str) -> None:
    facts = to_facts({"age": 40, section: None})
    assert all(facts[f] is None for f in REQUEST_FIELDS if f.startswith(f"{section}."))


def test_facts_come_in_declaration_order_with_tuples_copied_as_lists() -> None:
    facts = to_facts({"muscles": {"tight": ("hips", "core")}, "age": 40})
    assert list(facts) == list(FACTS)
    assert type(facts["muscles.tight"]) is list
    assert facts["muscles.tight"] == ["hips", "core"]
