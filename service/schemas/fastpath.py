"""A compiled fast path for loading valid requests, derived from the marshmallow schema.

marshmallow builds error stores, walks hooks and calls validators per field, which costs
about 90 µs for a typical request, more than any other part of the HTTP layer. Almost every
request is valid, and for those the answer is simple: the same dict, with integral floats
turned into ints. ``compile_loader`` reads a schema's fields and validators once and returns
a function that either returns exactly what ``schema.load`` would, or ``None`` when anything
is off; then the caller runs ``schema.load`` itself, so every error message still comes
from marshmallow.

The loader of each (nested) schema is Python source generated from the fields and run
through ``exec`` once at start-up, the way ``dataclasses`` writes ``__init__``: one
straight-line function per schema checks each field inline. The first version called a
checker closure per field, and those calls were most of its 7.5 µs for a typical request;
the generated one takes about a third of that. ``loader.__source__`` holds the text.

The compiler knows only the fields and validators the request schema uses and refuses
anything else (``TypeError`` at start-up), so a schema change cannot make the fast path
quietly accept what marshmallow would reject. ``tests/api/test_fastpath.py`` holds the two
to the same answers on generated documents.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, validate

from popcheck.schemas.fields import StrictBoolean, StrictInteger, StrictNumber, unique_items

Loader = Callable[[Mapping[str, Any]], dict[str, Any] | None]


class _Source:
    """The text of the loaders being generated and the objects their names refer to."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.namespace: dict[str, Any] = {"isfinite": math.isfinite}
        self._ids = itertools.count()

    def bind(self, prefix: str, value: Any) -> str:
        """A fresh global name for ``value`` in the generated code (bounds, choices, loaders),
        so that no value has to be written as a literal that would mean the same."""
        name = f"{prefix}_{next(self._ids)}"
        self.namespace[name] = value
        return name


def _only(validators: list[Any], allowed: tuple[type, ...], field_name: str) -> None:
    for validator in validators:
        if not isinstance(validator, allowed) and validator is not unique_items:
            raise TypeError(f"fast path cannot compile validator {validator!r} on {field_name}")


def _range_test(validators: list[Any], source: _Source) -> str:
    """An expression true when ``value`` is within the field's ``Range`` (``True`` without)."""
    tests = []
    for validator in validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None:
                low = source.bind("low", validator.min)
                tests.append(f"{low} <{'=' if validator.min_inclusive else ''} value")
            if validator.max is not None:
                high = source.bind("high", validator.max)
                tests.append(f"value <{'=' if validator.max_inclusive else ''} {high}")
    return " and ".join(tests) or "True"


def _choices(validators: list[Any]) -> frozenset[str] | None:
    for validator in validators:
        if isinstance(validator, validate.OneOf):
            return frozenset(validator.choices)
    return None


def _field_checks(name: str, field: fields.Field[Any], source: _Source) -> Iterator[str]:
    """Statements that check ``value`` (the field's, never ``None``), ``return None`` when it
    is invalid and leave the loaded value in ``value``."""
    validators = list(field.validators)

    if isinstance(field, StrictInteger):
        _only(validators, (validate.Range,), name)
        # An integral float loads as an int (14.0 is 14); inf and nan are not integral.
        yield "if type(value) is float and value.is_integer():"
        yield "    value = int(value)"
        yield f"if type(value) is not int or not ({_range_test(validators, source)}):"
        yield "    return None"
        return

    if isinstance(field, StrictNumber):
        _only(validators, (validate.Range,), name)
        yield "kind = type(value)"
        yield "if not (kind is int or (kind is float and isfinite(value))):"
        yield "    return None"
        yield f"if not ({_range_test(validators, source)}):"
        yield "    return None"
        return

    if isinstance(field, StrictBoolean):
        _only(validators, (), name)
        yield "if type(value) is not bool:"
        yield "    return None"
        return

    if type(field) is fields.String:
        _only(validators, (validate.OneOf,), name)
        choices = _choices(validators)
        test = "type(value) is not str"
        if choices is not None:
            test += f" or value not in {source.bind('choices', choices)}"
        yield f"if {test}:"
        yield "    return None"
        return

    if isinstance(field, fields.List) and type(field.inner) is fields.String:
        _only(validators, (), name)
        inner = field.inner
        _only(list(inner.validators), (validate.OneOf,), f"{name}[]")
        if inner.allow_none:
            raise TypeError(f"fast path cannot compile nullable items of {name}")
        choices = _choices(list(inner.validators))
        item_test = "type(item) is not str"
        if choices is not None:
            item_test += f" or item not in {source.bind('choices', choices)}"
        yield "if type(value) is not list:"
        yield "    return None"
        yield "for item in value:"
        yield f"    if {item_test}:"
        yield "        return None"
        if unique_items in validators:
            yield "if len(set(value)) != len(value):"
            yield "    return None"
        # A new list, as marshmallow returns: the loaded request never aliases the body.
        yield "value = list(value)"
        return

    if isinstance(field, fields.Nested) and not field.many:
        _only(validators, (), name)
        nested = source.bind("load", _compile_schema(field.schema, source))
        yield "if type(value) is not dict:"
        yield "    return None"
        yield f"value = {nested}(value)"
        yield "if value is None:"
        yield "    return None"
        return

    raise TypeError(f"fast path cannot compile {type(field).__name__} field {name}")


def _compile_schema(schema: Schema, source: _Source) -> Loader:
    if schema.unknown != RAISE:
        raise TypeError(f"fast path needs unknown = RAISE on {type(schema).__name__}")
    if any(type(schema).resolve_hooks().values()):
        raise TypeError(f"fast path cannot run hooks of {type(schema).__name__}")
    body: list[str] = []
    # Declaration order, as marshmallow builds its result.
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            raise TypeError(f"fast path needs plain names, not {name!r} renamed")
        if field.load_default is not missing:
            raise TypeError(f"fast path cannot fill the default of {name!r}")
        # A str's repr is a literal of the very same string; a constant beats a global.
        key = repr(name)
        checks = [f"        {line}" for line in _field_checks(name, field, source)]
        body.append(f"    if {key} in document:")
        body.append(f"        value = document[{key}]")
        if field.allow_none:
            body.append("        if value is not None:")
            body.extend(f"    {line}" for line in checks)
        else:
            body.extend(checks)
        body.append(f"        loaded[{key}] = value")
        if field.required:
            body.append("    else:")
            body.append("        return None")
    known = source.bind("known", frozenset(schema.load_fields))
    function = f"load_{type(schema).__name__}"
    text = "\n".join(
        [
            f"def {function}(document):",
            f"    if not {known}.issuperset(document):",
            "        return None",
            "    loaded = {}",
            *body,
            "    return loaded",
        ]
    )
    source.texts.append(text)
    scope: dict[str, Any] = {}
    exec(compile(text, f"<fast path for {type(schema).__name__}>", "exec"), source.namespace, scope)
    loader: Loader = scope[function]
    return loader


def compile_loader(schema: Schema) -> Loader:
    """``schema.load`` for valid documents, ``None`` for anything marshmallow might reject.

    Raises ``TypeError`` when the schema uses something the fast path does not model.
    """
    source = _Source()
    loader = _compile_schema(schema, source)
    # The generated text, nested schemas first, for whoever reads a traceback through it.
    loader.__source__ = "\n\n".join(source.texts)  # type: ignore[attr-defined]
    return loader
