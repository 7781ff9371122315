"""The marshmallow schemas as OpenAPI 3.1 schema components, through apispec's marshmallow plugin.

apispec knows marshmallow's stock fields and validators (``Range`` becomes ``minimum`` and
``maximum``, ``OneOf`` an ``enum``, ``allow_none`` a ``'null'`` type, ``metadata`` the rest).
This module teaches it what the contract adds, through the plugin's extension points:

- the strict JSON fields (``fields.py``) are ``integer``, ``number`` and ``boolean``;
- an ``EnumSet`` is an array with ``uniqueItems`` and ``maxItems`` (what it enforces);
- a nullable nested object is ``oneOf: [$ref, {type: 'null'}]``: exactly one of them holds,
  and the walkers of the spec (tests, bench) read that shape;
- a closed schema (``unknown = RAISE``) says ``additionalProperties: false`` even when it has a
  description (apispec drops it then), and an open one (``EXCLUDE``, ``INCLUDE``) says
  ``additionalProperties: true``, as does a ``Dict`` of any values: client generators read a
  missing ``additionalProperties`` in different ways, so the spec always states it;
- a field with ``metadata[COMPONENT]`` becomes a named component that the field refers to
  (every enum, so that each is one named type in a generated client; a map shared by two
  schemas). A nullable one is ``oneOf: [$ref, {type: 'null'}]``, and the component holds
  no ``null``: null inside an enum comes out of generators as a third type or a ``None``
  member;
- a value fixed by ``validate.Equal`` is a ``const`` (a literal type in clients), not a
  one-value ``enum``;
- a schema class named ``_Something`` is written inline where it is used, not as a component.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import RAISE, Schema, fields, validate

from popcheck.schemas.fields import EnumSet, StrictBoolean, StrictInteger, StrictNumber

COMPONENT = "component"
"""Field metadata key: the name of the component the field's property becomes. Not an
OpenAPI keyword, so apispec never copies it into the property itself."""

_REF_PREFIX = "#/components/schemas/"


def component_name(schema: type[Schema] | Schema) -> str | None:
    """``FooSchema`` is the component ``Foo``; ``_FooSchema`` has no name (inlined)."""
    name = (schema if isinstance(schema, type) else type(schema)).__name__
    return None if name.startswith("_") else name.removesuffix("Schema")


def _enum_set_properties(
    self: OpenAPIConverter, field: fields.Field[Any], **kwargs: Any
) -> dict[str, Any]:
    if isinstance(field, EnumSet):
        # Unique items from n choices can never be more than n; EnumSet refuses more whole.
        return {"uniqueItems": True, "maxItems": field.max_items}
    return {}


class ContractConverter(OpenAPIConverter):
    """apispec's converter with the contract's fields, nullable objects and components."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # apispec's mapping is one dict shared by every converter; extend a copy of it.
        self.field_mapping = dict(self.field_mapping)
        self.map_to_openapi_type(StrictInteger, "integer", None)  # type: ignore[no-untyped-call]
        self.map_to_openapi_type(StrictNumber, "number", None)  # type: ignore[no-untyped-call]
        self.map_to_openapi_type(StrictBoolean, "boolean", None)  # type: ignore[no-untyped-call]
        self.add_attribute_function(_enum_set_properties)  # type: ignore[no-untyped-call]

    def field2nullable(self, field: fields.Field[Any], ret: dict[str, Any]) -> dict[str, Any]:
        """A nullable nested object is ``oneOf`` (apispec writes ``anyOf``); the two mean
        the same here, since an object is never null."""
        attributes: dict[str, Any] = super().field2nullable(field, ret)
        if "anyOf" in attributes:
            attributes["oneOf"] = attributes.pop("anyOf")
        return attributes

    def field2property(self, field: fields.Field[Any]) -> dict[str, Any]:
        """The property, or a reference to the named component it becomes."""
        prop: dict[str, Any] = super().field2property(field)
        if prop.get("additionalProperties") == {}:
            prop["additionalProperties"] = True
        if "enum" in prop and any(isinstance(v, validate.Equal) for v in field.validators):
            (prop["const"],) = prop.pop("enum")
        name = field.metadata.get(COMPONENT)
        if name is None:
            return prop
        component = _without_null(prop) if field.allow_none else prop
        registered = self.spec.components.schemas
        if name not in registered:
            self.spec.components.schema(name, component)
        elif registered[name] != component:
            raise ValueError(f"two different fields declare the component {name!r}")
        ref = {"$ref": f"{_REF_PREFIX}{name}"}
        return {"oneOf": [ref, {"type": "null"}]} if field.allow_none else ref

    def schema2jsonschema(self, schema: Schema | type[Schema]) -> dict[str, Any]:
        """States ``additionalProperties`` on every object: apispec sets it only for a closed
        schema whose ``Meta`` has no ``description``."""
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        instance = schema() if isinstance(schema, type) else schema
        jsonschema.setdefault("additionalProperties", instance.unknown != RAISE)
        return jsonschema


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A nullable property's schema without its ``null``: the component a ``oneOf`` with
    ``{type: 'null'}`` refers to."""
    component = dict(prop)
    kinds = component.get("type")
    if isinstance(kinds, list):
        kinds = [kind for kind in kinds if kind != "null"]
        component["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "enum" in component:
        component["enum"] = [value for value in component["enum"] if value is not None]
    return component


class ContractPlugin(MarshmallowPlugin):
    """apispec's marshmallow plugin with ``ContractConverter`` and ``component_name``."""

    Converter = ContractConverter

    def __init__(self) -> None:
        # apispec documents a resolver returning None (write the schema inline) but types
        # the resolver as returning str.
        super().__init__(schema_name_resolver=component_name)  # type: ignore[arg-type]


def schema_components(
    schemas: Iterable[type[Schema]], openapi_version: str
) -> dict[str, dict[str, Any]]:
    """``components.schemas`` for ``schemas`` and every schema they nest, as JSON Schema.

    Each of ``schemas`` is followed by the components it refers to, depth first in field
    order (apispec registers a nested schema before the one that nests it), so the document
    reads top-down: the request, then its sections; the assessment, then its parts.
    """
    spec = APISpec("components", "0", openapi_version, plugins=[ContractPlugin()])
    tops = []
    for schema in schemas:
        name = component_name(schema)
        if name is None:
            raise ValueError(f"{schema.__name__} must be a named component")
        spec.components.schema(name, schema=schema)
        tops.append(name)
    generated: dict[str, dict[str, Any]] = spec.to_dict()["components"]["schemas"]
    order: dict[str, None] = {}
    for name in tops:
        order.update(dict.fromkeys(_preorder(name, generated, set(order))))
    return {name: generated[name] for name in order}


def _preorder(name: str, generated: dict[str, Any], seen: set[str]) -> Iterator[str]:
    if name in seen:
        return
    seen.add(name)
    yield name
    for ref in refs(generated[name]):
        if ref.startswith(_REF_PREFIX):
            yield from _preorder(ref.removeprefix(_REF_PREFIX), generated, seen)


def refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` in ``node``, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)
