"""Typed questions: each entry of ``questions`` says how it is answered, from the contract."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import validate

from popcheck.assessment import Assessor
from popcheck.assessment.prepared import RANK, question_entries
from popcheck.schemas.interview import QUESTION_TYPES, request_fields
from popcheck.schemas.request import AssessmentRequestSchema
from popcheck.schemas.response import QuestionSchema

# The members every question has, and those only some types (or follow-ups) have.
_ALWAYS = ["field", "text", "type", "raises_to"]
_TYPED = {
    "boolean": [],
    "choice": ["options"],
    "multi_choice": ["options"],
    "integer": ["minimum", "maximum", "unit"],
    "number": ["minimum", "maximum", "unit"],
}


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    from popcheck.app import create_app
    from popcheck.state import get_state

    return get_state(create_app({"TESTING": True})).assessor


def _questions(assessor: Assessor, request: dict[str, Any]) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = assessor.assess(request)["questions"]
    return questions


def test_every_request_field_has_a_type_and_every_choice_a_label() -> None:
    specs = request_fields()
    schema = AssessmentRequestSchema()
    assert len(specs) == sum(
        len(f.schema.fields) if hasattr(f, "schema") else 1 for f in schema.fields.values()
    )
    for spec in specs.values():
        assert spec.type in QUESTION_TYPES
        if spec.type in ("choice", "multi_choice"):
            assert spec.options and all(option.label for option in spec.options)
        else:
            assert spec.options is None
        if spec.type in ("integer", "number"):
            assert spec.minimum is not None and spec.maximum is not None
    assert specs["age"].required and specs["age"].unit == "years"
    assert specs["muscles.tight"].type == "multi_choice"
    assert specs["onset"].type == "choice"
    assert specs["lifestyle.sitting_hours_per_day"].type == "number"
    assert specs["stiffness.morning_minutes"].unit == "minutes"


def test_choices_are_the_ones_the_request_schema_validates() -> None:
    schema = AssessmentRequestSchema()
    onset = schema.fields["onset"]
    (one_of,) = [v for v in onset.validators if isinstance(v, validate.OneOf)]
    assert [o.value for o in request_fields()["onset"].options or ()] == list(one_of.choices)


def test_questions_are_typed_and_in_the_contract_shape(assessor: Assessor) -> None:
    questions = _questions(assessor, {"age": 40})
    assert questions
    by_field = {q["field"]: q for q in questions}
    for question in questions:
        QuestionSchema().load(question)
        spec = request_fields()[question["field"]]
        assert question["type"] == spec.type
        # In the contract's order, and only what applies to its type (a number without a
        # unit, a 0 to 10 score, has no ``unit``).
        expected = [
            *_ALWAYS[:3],
            *(key for key in _TYPED[spec.type] if getattr(spec, key) is not None),
            "raises_to",
            *(["follows"] if "follows" in question else []),
        ]
        assert list(question) == expected
        assert question.get("minimum") == spec.minimum and question.get("maximum") == spec.maximum
    trauma = by_field["history.recent_trauma"]
    assert trauma["type"] == "choice"
    assert [o["value"] for o in trauma["options"]] == ["none", "minor", "major"]
    assert by_field["pain.level"]["type"] == "integer"
    assert (by_field["pain.level"]["minimum"], by_field["pain.level"]["maximum"]) == (0, 10)


def test_questions_are_most_urgent_first(assessor: Assessor) -> None:
    ranks = [RANK[q["raises_to"]] for q in _questions(assessor, {"age": 40})]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == RANK["emergency"]


def test_raises_to_is_above_the_current_urgency(assessor: Assessor) -> None:
    body = assessor.assess({"age": 40, "pain": {"level": 6, "radiates_to_leg": True}})
    for question in body["questions"]:
        assert RANK[question["raises_to"]] > body["urgency"]["rank"]


def test_follows_names_the_catalog_leads(assessor: Assessor) -> None:
    leads = {
        field: list(follows)
        for field, (_text, follows) in question_entries(assessor.ruleset.catalog).items()
    }
    body = assessor.assess({"age": 40, "neuro": {"leg_weakness": True}})
    asked = {q["field"]: q for q in body["questions"]}
    assert asked["neuro.weakness_worsening"]["follows"] == ["neuro.leg_weakness"]
    for field, question in asked.items():
        assert question.get("follows") == (leads[field] or None)


def test_a_caller_editing_its_questions_changes_nothing_for_the_next(assessor: Assessor) -> None:
    first = _questions(assessor, {"age": 40})
    before = _questions(assessor, {"age": 40})
    for question in first:
        question["text"] = "changed"
        if "options" in question:
            question["options"][0]["label"] = "changed"
            question["options"].append({"value": "x", "label": "x"})
        if "follows" in question:
            question["follows"].append("x")
    assert _questions(assessor, {"age": 40}) == before


def test_old_clients_still_find_field_and_text(assessor: Assessor) -> None:
    for question in _questions(assessor, {"age": 40}):
        assert isinstance(question["field"], str) and isinstance(question["text"], str)
