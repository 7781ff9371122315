"""``popcheck.schemas.openapi``: each kind of field the contract uses becomes exactly the JSON
Schema it enforces, and schemas become components (or inline objects) as the spec needs."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from popcheck.schemas.fields import EnumSet, StrictBoolean, StrictInteger, StrictNumber
from popcheck.schemas.openapi import COMPONENT, schema_components

NULL = "null"


def _property(field: fields.Field[Any]) -> dict[str, Any]:
    class OneFieldSchema(Schema):
        class Meta:
            unknown = RAISE

    schema = OneFieldSchema.from_dict({"value": field}, name="OneFieldSchema")
    components = schema_components([schema], "3.1.0")
    prop: dict[str, Any] = components["OneField"]["properties"]["value"]
    return prop


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            StrictInteger(required=True, validate=validate.Range(16, 120)),
            {"type": "integer", "minimum": 16, "maximum": 120},
        ),
        (
            StrictInteger(allow_none=True, validate=validate.Range(0, 10)),
            {"type": ["integer", NULL], "minimum": 0, "maximum": 10},
        ),
        (
            StrictNumber(allow_none=True, validate=validate.Range(0, 24)),
            {"type": ["number", NULL], "minimum": 0, "maximum": 24},
        ),
        (StrictBoolean(allow_none=True), {"type": ["boolean", NULL]}),
        (
            # Every enum of the contract is named (COMPONENT); unnamed, apispec's shape.
            fields.String(allow_none=True, validate=validate.OneOf(["a", "b"])),
            {"type": ["string", NULL], "enum": ["a", "b", None]},
        ),
        (
            fields.String(
                allow_none=True,
                validate=validate.OneOf(["a", "b"]),
                metadata={COMPONENT: "AB"},
            ),
            # Never null inside the enum: the component is the enum, the field adds null.
            {"oneOf": [{"$ref": "#/components/schemas/AB"}, {"type": NULL}]},
        ),
        (
            fields.Integer(required=True, strict=True, validate=validate.Equal(422)),
            {"type": "integer", "const": 422},
        ),
        (fields.Dict(), {"type": "object", "additionalProperties": True}),
        (
            EnumSet(["x", "y", "z"], allow_none=True),
            {
                "type": ["array", NULL],
                "items": {"type": "string", "enum": ["x", "y", "z"]},
                "uniqueItems": True,
                "maxItems": 3,
            },
        ),
        (
            EnumSet(["x", "y", "z"], item_metadata={COMPONENT: "XYZ"}),
            {
                "type": "array",
                "items": {"$ref": "#/components/schemas/XYZ"},
                "uniqueItems": True,
                "maxItems": 3,
            },
        ),
        (
            StrictBoolean(allow_none=True, metadata={"description": "Said once."}),
            {"type": ["boolean", NULL], "description": "Said once."},
        ),
    ],
)
def test_each_field_is_the_json_schema_it_enforces(
    field: fields.Field[Any], expected: dict[str, Any]
) -> None:
    assert _property(field) == expected


class _ItemSchema(Schema):
    name = fields.String(required=True)


class PartSchema(Schema):
    class Meta:
        unknown = RAISE
        description = "A closed part, described."

    kind = fields.String(
        required=True,
        validate=validate.OneOf(["p", "q"]),
        metadata={"description": "Which.", COMPONENT: "PartKind"},
    )


class OpenSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    note = fields.String()


class WholeSchema(Schema):
    class Meta:
        unknown = RAISE

    part = fields.Nested(PartSchema, allow_none=True)
    parts = fields.List(fields.Nested(PartSchema), required=True)
    items = fields.List(fields.Nested(_ItemSchema))
    open = fields.Nested(OpenSchema)
    kind = fields.String(
        validate=validate.OneOf(["p", "q"]),
        metadata={"description": "Which.", COMPONENT: "PartKind"},
    )


def test_schemas_become_components_top_down() -> None:
    components = schema_components([WholeSchema], "3.1.0")
    # The schema first, then what it refers to, in field order.
    assert list(components) == ["Whole", "Part", "PartKind", "Open"]
    whole = components["Whole"]
    assert whole["additionalProperties"] is False
    assert whole["required"] == ["parts"]
    props = whole["properties"]
    # A nullable object is one of the object or null, never both.
    assert props["part"] == {"oneOf": [{"$ref": "#/components/schemas/Part"}, {"type": NULL}]}
    assert props["parts"] == {"type": "array", "items": {"$ref": "#/components/schemas/Part"}}
    # A _Name schema is written where it is used.
    assert props["items"]["items"]["properties"] == {"name": {"type": "string"}}
    assert props["kind"] == {"$ref": "#/components/schemas/PartKind"}


def test_closed_described_and_open_schemas() -> None:
    components = schema_components([WholeSchema], "3.1.0")
    # apispec alone drops additionalProperties from a schema with a description.
    assert components["Part"]["description"] == "A closed part, described."
    assert components["Part"]["additionalProperties"] is False
    # An open object says so: generators read a missing additionalProperties differently.
    assert components["Open"]["additionalProperties"] is True
    assert components["PartKind"] == {
        "type": "string",
        "enum": ["p", "q"],
        "description": "Which.",
    }


def test_one_component_name_for_two_different_fields_is_an_error() -> None:
    class ClashSchema(Schema):
        a = fields.String(validate=validate.OneOf(["p"]), metadata={COMPONENT: "Kind"})
        b = fields.String(validate=validate.OneOf(["q"]), metadata={COMPONENT: "Kind"})

    with pytest.raises(ValueError, match="Kind"):
        schema_components([ClashSchema], "3.1.0")


def test_a_nullable_enum_component_holds_no_null() -> None:
    class NullableSchema(Schema):
        kind = fields.String(
            allow_none=True,
            validate=validate.OneOf(["p", "q"]),
            metadata={"description": "Which.", COMPONENT: "PartKind"},
        )

    components = schema_components([NullableSchema], "3.1.0")
    assert components["PartKind"] == {"type": "string", "enum": ["p", "q"], "description": "Which."}


def test_an_inline_schema_cannot_be_a_top_component() -> None:
    with pytest.raises(ValueError, match="_ItemSchema"):
        schema_components([_ItemSchema], "3.1.0")
