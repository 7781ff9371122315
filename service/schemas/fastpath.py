"""A compiled fast path for loading valid requests, derived from the marshmallow schema.

marshmallow builds error stores, walks hooks and calls validators per field, which costs
about 90 µs for a typical request, more than any other part of the HTTP layer. Almost every
request is valid, and for those the answer is simple: the same dict, with integral floats
turned into ints. ``compile_loader`` reads a schema's fields and validators once and returns
a function that either returns exactly what ``schema.load`` would, or ``None`` when anything
is off; then the caller runs ``schema.load`` itself, so every error message still comes
from marshmallow.

The compiler knows only the fields and validators the request schema uses and refuses
anything else (``TypeError`` at start-up), so a schema change cannot make the fast path
quietly accept what marshmallow would reject. ``tests/api/test_fastpath.py`` holds the two
to the same answers on generated documents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, validate

from service.schemas.fields import StrictBoolean, StrictInteger, StrictNumber
from service.schemas.request import unique_items

# A checker returns the loaded value, or _INVALID.
_INVALID: Any = object()

Checker = Callable[[Any], Any]
Loader = Callable[[Mapping[str, Any]], dict[str, Any] | None]


def _range_check(validators: list[Any]) -> Callable[[float], bool]:
    low = high = None
    low_inclusive = high_inclusive = True
    for validator in validators:
        if isinstance(validator, validate.Range):
            low, high = validator.min, validator.max
            low_inclusive, high_inclusive = validator.min_inclusive, validator.max_inclusive

    def within(number: float) -> bool:
        if low is not None and (number < low or (not low_inclusive and number == low)):
            return False
        return not (high is not None and (number > high or (not high_inclusive and number == high)))

    return within


def _only(validators: list[Any], allowed: tuple[type, ...], field_name: str) -> None:
    for validator in validators:
        if not isinstance(validator, allowed) and validator is not unique_items:
            raise TypeError(f"fast path cannot compile validator {validator!r} on {field_name}")


def _compile_field(name: str, field: fields.Field[Any]) -> Checker:
    validators = list(field.validators)
    allow_none = bool(field.allow_none)

    if isinstance(field, StrictInteger):
        _only(validators, (validate.Range,), name)
        within = _range_check(validators)

        def check_int(value: Any) -> Any:
            if value is None:
                return None if allow_none else _INVALID
            kind = type(value)
            if kind is int:
                return value if within(value) else _INVALID
            if kind is float and math.isfinite(value) and value.is_integer():
                number = int(value)
                return number if within(number) else _INVALID
            return _INVALID

        return check_int

    if isinstance(field, StrictNumber):
        _only(validators, (validate.Range,), name)
        within = _range_check(validators)

        def check_number(value: Any) -> Any:
            if value is None:
                return None if allow_none else _INVALID
            kind = type(value)
            if kind is int or (kind is float and math.isfinite(value)):
                return value if within(value) else _INVALID
            return _INVALID

        return check_number

    if isinstance(field, StrictBoolean):
        _only(validators, (), name)

        def check_bool(value: Any) -> Any:
            if value is None:
                return None if allow_none else _INVALID
            return value if type(value) is bool else _INVALID

        return check_bool

    if type(field) is fields.String:
        _only(validators, (validate.OneOf,), name)
        choices = _choices(validators)

        def check_string(value: Any) -> Any:
            if value is None:
                return None if allow_none else _INVALID
            if type(value) is not str or (choices is not None and value not in choices):
                return _INVALID
            return value

        return check_string

    if isinstance(field, fields.List) and type(field.inner) is fields.String:
        _only(validators, (), name)
        item = _compile_field(f"{name}[]", field.inner)
        unique = unique_items in validators

        def check_list(value: Any) -> Any:
            if value is None:
                return None if allow_none else _INVALID
            if type(value) is not list:
                return _INVALID
            loaded = [item(entry) for entry in value]
            if any(entry is _INVALID for entry in loaded):
                return _INVALID
            if unique and len(set(loaded)) != len(loaded):
                return _INVALID
            return loaded

        return check_list

    if isinstance(field, fields.Nested) and not field.many:
        _only(validators, (), name)
        nested = _compile_schema(field.schema)

        def check_nested(value: Any) -> Any:
            if value is None:
                return None if allow_none else _INVALID
            if type(value) is not dict:
                return _INVALID
            loaded = nested(value)
            return _INVALID if loaded is None else loaded

        return check_nested

    raise TypeError(f"fast path cannot compile {type(field).__name__} field {name}")


def _choices(validators: list[Any]) -> frozenset[str] | None:
    for validator in validators:
        if isinstance(validator, validate.OneOf):
            return frozenset(validator.choices)
    return None


def _compile_schema(schema: Schema) -> Loader:
    if schema.unknown != RAISE:
        raise TypeError(f"fast path needs unknown = RAISE on {type(schema).__name__}")
    if schema._hooks and any(schema._hooks.values()):
        raise TypeError(f"fast path cannot run hooks of {type(schema).__name__}")
    checkers: list[tuple[str, Checker, bool]] = []
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            raise TypeError(f"fast path needs plain names, not {name!r} renamed")
        if field.load_default is not missing:
            raise TypeError(f"fast path cannot fill the default of {name!r}")
        checkers.append((name, _compile_field(name, field), field.required))
    known = frozenset(name for name, _, _ in checkers)

    def load(document: Mapping[str, Any]) -> dict[str, Any] | None:
        if not known.issuperset(document):
            return None
        loaded: dict[str, Any] = {}
        # Declaration order, as marshmallow builds its result.
        for name, check, required in checkers:
            if name in document:
                value = check(document[name])
                if value is _INVALID:
                    return None
                loaded[name] = value
            elif required:
                return None
        return loaded

    return load


def compile_loader(schema: Schema) -> Loader:
    """``schema.load`` for valid documents, ``None`` for anything marshmallow might reject.

    Raises ``TypeError`` when the schema uses something the fast path does not model.
    """
    return _compile_schema(schema)
