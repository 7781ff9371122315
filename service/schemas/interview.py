"""Each request field as a question an app can render: its answer type, choices, range and unit.

Read from ``AssessmentRequestSchema``, the one declaration of the request: the same fields and
validators that load a request (``Range`` gives ``minimum``/``maximum``, ``OneOf`` the
choices), plus the field ``metadata`` that only people read (``description``, ``unit``,
``labels`` by choice). The typed ``questions`` of an assessment (``popcheck.assessment``) and
the FHIR Questionnaire (``popcheck.fhir``) are both built from ``request_fields()`` at load,
never per request.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from marshmallow import Schema, fields, validate

from popcheck.schemas.fields import EnumSet, StrictBoolean, StrictInteger, StrictNumber
from popcheck.schemas.request import AssessmentRequestSchema

__all__ = ["QUESTION_TYPES", "FieldSpec", "Option", "field_specs", "request_fields"]

QUESTION_TYPES: Final[tuple[str, ...]] = ("boolean", "integer", "number", "choice", "multi_choice")
"""How a question is answered: yes/no, a whole number, any number, one choice, several."""


@dataclass(frozen=True, slots=True)
class Option:
    """One choice: the value sent in the request and the label shown for it."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One request field (a leaf of the request document)."""

    #: The dotted field path, ``neuro.saddle_numbness``.
    path: str
    #: The section it belongs to (``neuro``), ``None`` for a top-level field (``age``).
    section: str | None
    #: One of ``QUESTION_TYPES``.
    type: str
    description: str
    required: bool
    #: The choices of a ``choice`` or ``multi_choice`` field, in the contract's order.
    options: tuple[Option, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    #: Plain-language unit of a number (``minutes``), ``None`` without one.
    unit: str | None = None


def _range(field: fields.Field[Any], path: str) -> tuple[int | float | None, int | float | None]:
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            # An exclusive bound would read as an inclusive minimum or maximum to every
            # consumer (the typed questions, the Questionnaire, the engine's facts).
            if not (validator.min_inclusive and validator.max_inclusive):
                raise TypeError(f"request field {path!r} needs an inclusive validate.Range")
            return validator.min, validator.max
    return None, None


def _options(field: fields.Field[Any], labels: Mapping[str, str], path: str) -> tuple[Option, ...]:
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            choices = [str(choice) for choice in validator.choices]
            missing = [choice for choice in choices if not labels.get(choice)]
            if missing:
                raise TypeError(f"request field {path!r}: no label for {', '.join(missing)}")
            return tuple(Option(choice, str(labels[choice])) for choice in choices)
    raise TypeError(f"request field {path!r} needs validate.OneOf(choices)")


def _spec(field: fields.Field[Any], path: str, section: str | None) -> FieldSpec:
    meta = field.metadata
    common: dict[str, Any] = {
        "path": path,
        "section": section,
        "description": str(meta.get("description", "")),
        "required": bool(field.required),
    }
    labels: Mapping[str, str] = meta.get("labels") or {}
    if isinstance(field, StrictBoolean):
        return FieldSpec(type="boolean", **common)
    if isinstance(field, StrictInteger | StrictNumber):
        low, high = _range(field, path)
        return FieldSpec(
            type="integer" if isinstance(field, StrictInteger) else "number",
            minimum=low,
            maximum=high,
            unit=meta.get("unit"),
            **common,
        )
    if isinstance(field, EnumSet):
        return FieldSpec(type="multi_choice", options=_options(field.inner, labels, path), **common)
    if type(field) is fields.String:
        return FieldSpec(type="choice", options=_options(field, labels, path), **common)
    raise TypeError(f"request field {path!r}: no question type for {type(field).__name__}")


def field_specs(
    schema: Schema, prefix: str = "", section: str | None = None
) -> Iterator[FieldSpec]:
    """Every leaf field of ``schema`` in declaration order; ``TypeError`` naming the field
    for one that cannot be typed (a field is never skipped)."""
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.Nested):
            if field.many:
                raise TypeError(f"request field {prefix}{key!r}: a list of objects is no question")
            yield from field_specs(field.schema, f"{prefix}{key}.", f"{prefix}{key}")
        else:
            yield _spec(field, f"{prefix}{key}", section)


@functools.cache
def request_fields() -> Mapping[str, FieldSpec]:
    """Every request field by dotted path, in the contract's order (read once per process)."""
    return MappingProxyType({spec.path: spec for spec in field_specs(AssessmentRequestSchema())})
