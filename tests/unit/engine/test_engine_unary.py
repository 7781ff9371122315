"""Every unary-test form, with the null semantics docs/rules.md promises."""

from __future__ import annotations

from typing import Any

import pytest

from popcheck.engine import FactType, InputDef
from popcheck.engine.unary import UnaryTestError, compile_test

INT = InputDef("n", FactType.INT, range=(0, 10))
NUMBER = InputDef("x", FactType.NUMBER)
BOOL = InputDef("b", FactType.BOOL)
ENUM = InputDef("e", FactType.ENUM, values=("full", "reduced", "very_limited"))
LIST = InputDef("l", FactType.ENUM_LIST, values=("hips", "glutes", "core"))

# (cell, input, value, expected): None is "unanswered".
CASES: list[tuple[Any, InputDef, Any, bool]] = [
    ("-", INT, 3, True),
    ("-", INT, None, True),
    ("-", LIST, None, True),
    ("null", INT, None, True),
    ("null", INT, 0, False),
    ("null", BOOL, False, False),
    (None, BOOL, None, True),  # a YAML null cell means the text "null"
    ("true", BOOL, True, True),
    ("true", BOOL, False, False),
    ("true", BOOL, None, False),
    (True, BOOL, True, True),  # YAML scalars mean the same as their text
    ("false", BOOL, False, True),
    ("false", BOOL, None, False),
    ("false, null", BOOL, None, True),
    ("false, null", BOOL, False, True),
    ("false, null", BOOL, True, False),
    ("7", INT, 7, True),
    (7, INT, 7, True),
    ("7", INT, 6, False),
    ("7", INT, None, False),
    ("2.5", NUMBER, 2.5, True),
    ("$limit", INT, 5, True),
    ("$limit", INT, 4, False),
    ("< 5", INT, 4, True),
    ("< 5", INT, 5, False),
    ("< 5", INT, None, False),
    ("<= 5", INT, 5, True),
    ("<= 5", INT, 6, False),
    ("> 5", INT, 6, True),
    ("> 5", INT, 5, False),
    (">= 5", INT, 5, True),
    (">= 5", INT, 4, False),
    (">= 5", INT, None, False),
    ("= 5", INT, 5, True),
    ("= 5", INT, 4, False),
    ("!= 5", INT, 4, True),
    ("!= 5", INT, 5, False),
    ("!= 5", INT, None, False),
    ("> $limit", INT, 6, True),
    ("[1..5]", INT, 1, True),
    ("[1..5]", INT, 5, True),
    ("[1..5]", INT, 6, False),
    ("[1..5]", INT, None, False),
    ("(1..5]", INT, 1, False),
    ("(1..5]", INT, 2, True),
    ("[1..5)", INT, 5, False),
    ("[1..5)", INT, 4, True),
    ("(1..5)", INT, 1, False),
    ("(1..5)", INT, 5, False),
    ("(1..5)", INT, 3, True),
    ("(1.5..2.5)", NUMBER, 2.0, True),
    ("[$limit..10]", INT, 5, True),
    ("1, 3, 5", INT, 3, True),
    ("1, 3, 5", INT, 4, False),
    ("1, null", INT, None, True),
    ('"reduced", "very_limited"', ENUM, "reduced", True),
    ('"reduced", "very_limited"', ENUM, "full", False),
    ('"reduced", "very_limited"', ENUM, None, False),
    ('"full", null', ENUM, None, True),
    ("'full'", ENUM, "full", True),
    ("not(5)", INT, 4, True),
    ("not(5)", INT, 5, False),
    ("not(5)", INT, None, False),  # a missing answer is never taken as a "no"
    ("not([1..5])", INT, 6, True),
    ("not([1..5])", INT, 3, False),
    ("not(< 3)", INT, 3, True),
    ("not(true)", BOOL, False, True),
    ("not(true)", BOOL, None, False),
    ("not(null)", BOOL, False, True),  # answered
    ("not(null)", BOOL, None, False),
    ('not("full")', ENUM, "reduced", True),
    ('not("full")', ENUM, None, False),
    ("< 3, > 7", INT, 2, True),
    ("< 3, > 7", INT, 5, False),
    ("[1..2], 9, null", INT, None, True),
    ("[1..2], 9, null", INT, 9, True),
    ('"hips", "glutes"', LIST, ["glutes", "core"], True),
    ('"hips", "glutes"', LIST, ["core"], False),
    ('"hips", "glutes"', LIST, [], False),
    ('"hips", "glutes"', LIST, None, False),
    ('"hips"', LIST, ("hips",), True),
    ("[]", LIST, [], True),
    ("[]", LIST, ["hips"], False),
    ("[]", LIST, None, False),
    ('[], "core"', LIST, ["core"], True),
    ('not("hips")', LIST, ["core"], True),
    ('not("hips")', LIST, [], True),
    ('not("hips")', LIST, ["hips", "core"], False),
    ('not("hips")', LIST, None, False),
    ('not("hips"), null', LIST, None, True),
    ("null", LIST, None, True),
    ("null", LIST, [], False),
]


@pytest.mark.parametrize(("cell", "spec", "value", "expected"), CASES)
def test_unary_test_matches(cell: Any, spec: InputDef, value: Any, expected: bool) -> None:
    test = compile_test(cell, spec, {"limit": 5})
    assert test.fn(value) is expected


@pytest.mark.parametrize(
    ("cell", "spec", "message"),
    [
        ("]1..5]", INT, "a range opens with"),
        ("[5..1]", INT, "empty range"),
        ("[1..5", INT, "unexpected end"),
        ("[1..5}", INT, "cannot read"),
        ("reduced", ENUM, "write strings in quotes"),
        ('"stiff"', ENUM, "is not one of"),
        ("3", ENUM, "does not fit enum"),
        ("< 5", BOOL, "need a number input"),
        ("[1..2]", ENUM, "need a number input"),
        ("1", BOOL, "does not fit bool"),
        ("true", INT, "does not fit int"),
        ("2.5", INT, "does not fit int"),
        ("11", INT, "outside the range"),
        ('"x"', INT, "does not fit int"),
        ("$nope", INT, "undefined constant $nope"),
        ("< $nope", INT, "undefined constant $nope"),
        ("[]", ENUM, "does not fit enum"),
        ('"knees"', LIST, "is not one of"),
        ("", INT, "empty test"),
        ("not(5", INT, "expected ')'"),
        ("< true", INT, "expected a number"),
        ("5 5", INT, "unexpected '5'"),
    ],
)
def test_bad_cells_are_rejected_with_a_reason(cell: str, spec: InputDef, message: str) -> None:
    with pytest.raises(UnaryTestError) as info:
        compile_test(cell, spec, {"limit": 5})
    assert message in str(info.value)


def test_compiled_test_keeps_its_text() -> None:
    test = compile_test(7, INT)
    assert test.text == "7"
    assert compile_test(None, INT).text == "null"
