"""How a raw fact is type-checked: the one definition, for the generated function and the
interpreter alike.

``checker`` builds a fact's validator; both evaluation paths call it for every answered
raw fact. The generated function first runs ``needs_check``, an inline pre-test that is
false only for values the validator surely accepts (a bool, a listed enum string, a whole
int in range), so a valid request rarely pays for a call, yet every verdict and every
message still comes from ``checker``. Messages name the fact but never echo its value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Any

from popcheck.engine.errors import EvaluationError
from popcheck.engine.model import CompiledTable, FactType, InputDef

#: Raises ``EvaluationError`` when an answered (not ``None``) value misfits its fact.
Checker = Callable[[Any], None]


def fact_checks(tables: Sequence[CompiledTable], chained: Collection[str]) -> tuple[InputDef, ...]:
    """Every raw fact's declared type, in the order the checks run: bools, enums, then the
    rest (cheapest first). A fact that several tables declare alike is checked once."""
    specs = [spec for table in tables for spec in table.inputs if spec.name not in chained]
    ordered = [s for kind in (FactType.BOOL, FactType.ENUM) for s in specs if s.type is kind]
    ordered += [s for s in specs if s.type not in (FactType.BOOL, FactType.ENUM)]
    distinct: dict[Hashable, InputDef] = {}
    for spec in ordered:
        # Specs with equal keys get the same verdict on every value: the order of an enum's
        # values does not matter, and a number input may narrow its fact's range.
        key: Hashable = spec
        if spec.type is FactType.BOOL:
            key = spec.name
        elif spec.type is FactType.ENUM:
            key = spec.name, frozenset(spec.values)
        distinct.setdefault(key, spec)
    return tuple(distinct.values())


def checker(spec: InputDef) -> Checker:
    """The validator of one raw fact.

    One specialised closure per type, so a request pays for one or two ``isinstance``.
    """
    name, kind, span = spec.name, spec.type, spec.range
    allowed = frozenset(spec.values)

    def fail(why: str) -> None:
        raise EvaluationError(f"fact {name!r} {why}")

    def check_bool(value: Any) -> None:
        if type(value) is not bool:
            fail(f"must be a bool, got {type(value).__name__}")

    def check_number(value: Any) -> None:
        if type(value) is bool or not isinstance(value, int | float):
            fail(f"must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            fail("must be a finite number")
        if kind is FactType.INT and type(value) is not int and not value.is_integer():
            fail("must be an integer")
        if span is not None and not span[0] <= value <= span[1]:
            fail(f"is outside its range [{span[0]}..{span[1]}]")

    def check_enum(value: Any) -> None:
        if value.__class__ is not str or value not in allowed:
            fail("is not one of its enum values")

    def check_list(value: Any) -> None:
        if not isinstance(value, list | tuple | set | frozenset):
            fail(f"must be a list, got {type(value).__name__}")
        if not all(isinstance(v, str) for v in value) or not allowed.issuperset(value):
            fail("holds a value that is not one of its enum values")

    match kind:
        case FactType.BOOL:
            return check_bool
        case FactType.INT | FactType.NUMBER:
            return check_number
        case FactType.ENUM:
            return check_enum
    return check_list


def needs_check(spec: InputDef, var: str, const: Callable[[str, Any], str]) -> str | None:
    """A Python expression over the answered value ``var`` that is false only when
    ``checker(spec)`` surely accepts it, or ``None`` when only the checker can tell.

    ``const(prefix, value)`` names a constant of the generated code. Whole ints inside
    their range pass inline (most numbers); a float goes to the checker, which accepts it.
    """
    if spec.type is FactType.BOOL:
        return f"{var}.__class__ is not bool"
    if spec.type is FactType.ENUM:
        return f"({var}.__class__ is not str or {var} not in {const('C', frozenset(spec.values))})"
    if spec.type in (FactType.INT, FactType.NUMBER) and spec.range is not None:
        low, high = const("K", spec.range[0]), const("K", spec.range[1])
        return f"({var}.__class__ is not int or not {low} <= {var} <= {high})"
    return None
