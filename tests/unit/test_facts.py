"""``service.facts``: the declared facts match the contract, and ``to_facts`` flattens a request
and derives what the tables read, never turning a missing answer into a "no"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from service.engine import FactType
from service.facts import DERIVED_SOURCES, FACTS, REQUEST_FIELDS, UnknownFieldError, to_facts

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


def _spec_fields() -> dict[str, dict[str, Any]]:
    """Every leaf field of ``AssessmentRequest`` in openapi.yaml, by dotted path."""
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[1]]
        for key in ("anyOf", "oneOf"):
            for option in node.get(key, []):
                option = resolve(option)
                if option.get("type") == "object" or "properties" in option:
                    return option
        return node

    out: dict[str, dict[str, Any]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        node = resolve(node)
        if "properties" in node:
            for name, child in node["properties"].items():
                walk(f"{prefix}{name}" if not prefix else f"{prefix}.{name}", child)
        else:
            out[prefix] = node

    walk("", schemas["AssessmentRequest"])
    return out


def test_facts_declare_exactly_the_request_fields_of_the_spec() -> None:
    assert set(REQUEST_FIELDS) == set(_spec_fields())


@pytest.mark.parametrize("field", REQUEST_FIELDS)
def test_fact_types_and_ranges_match_the_spec(field: str) -> None:
    node = _spec_fields()[field]
    spec = FACTS[field]
    text = yaml.safe_dump(node)
    match spec.type:
        case FactType.INT | FactType.NUMBER:
            assert spec.range is not None
            assert node.get("minimum") == spec.range[0], text
            assert node.get("maximum") == spec.range[1], text
        case FactType.ENUM:
            assert set(spec.values) <= set(node.get("enum", [])) | {None}, text
            assert set(node.get("enum", [])) - {None} == set(spec.values), text
        case FactType.ENUM_LIST:
            assert set(node["items"]["enum"]) == set(spec.values), text
        case FactType.BOOL:
            assert "boolean" in str(node.get("type")), text


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
                "neuro": {"numbness": False, "tingling": False, "leg_weakness": False},
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
