"""The compiled fast path answers exactly as marshmallow does, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from popcheck.schemas import AssessmentRequestSchema
from popcheck.schemas.fastpath import compile_loader
from popcheck.schemas.fields import StrictNumber
from tests.api.test_schemas import RANGES, _at

SCHEMA = AssessmentRequestSchema()
FAST = compile_loader(SCHEMA)

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-1, 0, 1, 7, 10, 11, 16, 24, 120, 121, 1440, 14.0, 14.5, -0.0, 1e309]),
    st.text(max_size=12),
    st.sampled_from(["sudden", "gradual", "full", "reduced", "none", "minor", "hips", "core"]),
    st.lists(st.sampled_from(["hips", "core", "toes", "glutes", 1, None]), max_size=4),
    st.sampled_from(["hips", "core", "lower_back"]).map(lambda area: [area, "glutes", area]),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _valid_value(field: fields.Field[Any]) -> st.SearchStrategy[Any]:
    """Values marshmallow accepts for ``field`` (None included when allowed)."""
    nullable = st.none() if field.allow_none else st.nothing()
    if isinstance(field, fields.Nested):
        return nullable | _documents_for(field.schema, valid=True)
    if isinstance(field, fields.List):
        (choices,) = [v for v in field.inner.validators if isinstance(v, validate.OneOf)]
        return nullable | st.lists(st.sampled_from(list(choices.choices)), unique=True)
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            low, high = int(validator.min), int(validator.max)
            integral = st.integers(low, high)
            if isinstance(field, StrictNumber):
                return nullable | integral | st.floats(low, high)
            return nullable | integral | integral.map(float)
        if isinstance(validator, validate.OneOf):
            return nullable | st.sampled_from(list(validator.choices))
    return nullable | st.booleans()


def _documents_for(schema: Schema, *, valid: bool) -> st.SearchStrategy[dict[str, Any]]:
    entries: dict[str, st.SearchStrategy[Any]] = {}
    required: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in schema.fields.items():
        value = _valid_value(field)
        if not valid:
            # Mostly valid, about one field in ten anything at all, so a typical document
            # has one or two wrong values among right ones: the case a lax check would miss.
            if isinstance(field, fields.Nested):
                value = st.none() | _documents_for(field.schema, valid=False)
            value = st.integers(0, 9).flatmap(
                lambda pick, good=value: ODD_VALUES if pick == 0 else good
            )
        (required if field.required else entries)[name] = value
    documents = st.fixed_dictionaries(required, optional=entries)
    if valid:
        return documents
    unknown = st.dictionaries(st.sampled_from(["bogus", "levle", "Age"]), ODD_VALUES, max_size=1)
    extra = st.one_of(st.just({}), st.just({}), st.just({}), unknown)
    return st.builds(lambda a, b: {**a, **b}, documents, extra)


VALID_DOCUMENTS = _documents_for(SCHEMA, valid=True)
DOCUMENTS = _documents_for(SCHEMA, valid=False)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALID_DOCUMENTS)
def test_fast_path_loads_every_valid_document_as_marshmallow_does(
    document: dict[str, Any],
) -> None:
    expected = SCHEMA.load(document)
    fast = FAST(document)
    assert fast == expected
    assert repr(fast) == repr(expected)  # same key order, same int/float types


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_fast_path_agrees_with_marshmallow(document: dict[str, Any]) -> None:
    try:
        expected: dict[str, Any] | None = SCHEMA.load(document)
    except ValidationError:
        expected = None
    fast = FAST(document)
    # Valid for marshmallow <=> valid for the fast path, and then the same dict, same types.
    assert fast == expected
    if expected is not None:
        assert repr(fast) == repr(expected)


@pytest.mark.parametrize(("path", "low", "high"), RANGES)
def test_fast_path_takes_the_bounds_and_declines_beyond(path: str, low: int, high: int) -> None:
    for value in (low, high, float(low), float(high)):
        document = _at(path, value)
        assert FAST(document) == SCHEMA.load(document)
    for value in (low - 1, high + 1, low - 0.5, high + 0.5):
        assert FAST(_at(path, value)) is None


def test_fast_path_output_for_a_typical_request() -> None:
    document = {"age": 40.0, "pain": {"level": 3.0, "below_knee": None}, "muscles": {"tight": []}}
    assert FAST(document) == {
        "age": 40,
        "pain": {"level": 3, "below_knee": None},
        "muscles": {"tight": []},
    }


@pytest.mark.parametrize(
    "document",
    [
        {"age": 40, "muscles": {"tight": ["hips", "hips"]}},
        {"age": 40, "neuro": {"numbness": 1}},
        {"age": 40, "pain": {"level": 2.5}},
        {"age": 40, "pain": {"lvl": 2}},
        {"age": None},
        {"onset": "sudden"},
    ],
)
def test_fast_path_declines_invalid_documents(document: dict[str, Any]) -> None:
    assert FAST(document) is None


def test_unknown_construct_is_refused_at_compile_time() -> None:
    class Loose(Schema):
        when = fields.DateTime()

    with pytest.raises(TypeError, match="DateTime"):
        compile_loader(Loose())


def test_loaded_lists_and_objects_are_new_not_the_body_s() -> None:
    document = {"age": 40, "muscles": {"tight": ["hips", "core"]}}
    loaded = FAST(document)
    assert loaded is not None
    assert loaded["muscles"] is not document["muscles"]
    assert loaded["muscles"]["tight"] is not document["muscles"]["tight"]


def test_the_generated_source_is_kept_for_reading() -> None:
    source = FAST.__source__  # type: ignore[attr-defined]
    for name in SCHEMA.load_fields:
        assert repr(name) in source


@pytest.mark.parametrize(
    ("validators", "inside", "outside"),
    [
        ([validate.Range(0, 10, min_inclusive=False)], [0.5, 10], [0, -1, 11]),
        ([validate.Range(0, 10, max_inclusive=False)], [0, 9.5], [10, 11]),
        ([validate.Range(min=3)], [3, 10**9], [2]),
        ([validate.Range(max=3)], [-(10**9), 3], [4]),
        ([], [-(10**9), 10**9], []),
    ],
)
def test_range_bounds_and_their_inclusiveness(
    validators: list[validate.Range], inside: list[float], outside: list[float]
) -> None:
    class Ranged(Schema):
        class Meta:
            unknown = RAISE

        number = StrictNumber(validate=validators)

    schema = Ranged()
    fast = compile_loader(schema)
    for value in inside:
        assert fast({"number": value}) == schema.load({"number": value})
    for value in outside:
        assert fast({"number": value}) is None
        with pytest.raises(ValidationError):
            schema.load({"number": value})
