"""Unary tests: parse a cell once, type-check it against its input, compile it to a closure.

Grammar (in the spirit of DMN FEEL)::

    cell     := "-" | tests
    tests    := test ("," test)*             matches when any of the tests matches
    test     := "not(" tests ")" | compare | range | literal
    compare  := ("<" | "<=" | ">" | ">=" | "=" | "!=") operand
    range    := ("[" | "(") operand ".." operand ("]" | ")")
    literal  := "null" | "true" | "false" | number | "$"name | "\"text\"" | "[]"
    operand  := number | "$"name

The parse tree (``Node``, defined in ``model`` with ``UnaryTest``) is kept for the static
checker and the code generator; the closure (``Predicate``) is what the interpreter calls.
Parsing happens only at load time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from popcheck.engine.model import (
    EMPTY_LIST,
    AnyOf,
    AnyTest,
    Compare,
    FactType,
    InputDef,
    Literal,
    Literals,
    Node,
    Not,
    Predicate,
    Range,
    UnaryTest,
)


class UnaryTestError(ValueError):
    """A cell that cannot be parsed or does not fit its input (becomes a Finding)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<const>\$[A-Za-z_][A-Za-z0-9_]*)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<op>\.\.|<=|>=|!=|<|>|=|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)
_COMPARISONS = ("<", "<=", ">", ">=", "=", "!=")


def cell_text(raw: object) -> str:
    """The text of a YAML cell: scalars mean the same as their text (``true``, ``7``)."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise UnaryTestError(f"cannot read {text[pos:].strip()!r} in {text!r}")
        kind = m.lastgroup
        if kind is None:  # only whitespace left
            break
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, constants: Mapping[str, int | float]) -> None:
        self.text = text
        self.constants = constants
        self.tokens = [] if text.strip() == "-" else _tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise UnaryTestError(f"unexpected end of {self.text!r}")
        self.pos += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.peek()
        if tok is None or tok[1] != value:
            found = "the end" if tok is None else repr(tok[1])
            raise UnaryTestError(f"expected {value!r} but found {found} in {self.text!r}")
        self.pos += 1

    def parse(self) -> Node:
        if self.text.strip() == "-":
            return AnyTest()
        if not self.tokens:
            raise UnaryTestError("empty test; write '-' for any value")
        node = self.tests()
        if self.peek() is not None:
            raise UnaryTestError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return node

    def tests(self) -> Node:
        items = [self.test()]
        while self.peek() == ("op", ","):
            self.pos += 1
            items.append(self.test())
        literals = tuple(v for item in items if isinstance(item, Literals) for v in item.values)
        others = tuple(item for item in items if not isinstance(item, Literals))
        if not others:
            return Literals(literals)
        if not literals and len(others) == 1:
            return others[0]
        return AnyOf(((Literals(literals),) if literals else ()) + others)

    def test(self) -> Node:
        kind, value = self.peek() or ("", "")
        nxt = self.peek(1)
        if kind == "word" and value == "not" and nxt is not None and nxt[1] == "(":
            self.pos += 2
            inner = self.tests()
            self.expect(")")
            return Not(inner)
        if kind == "op" and value in _COMPARISONS:
            self.pos += 1
            number = self.operand()
            if value == "=":
                return Literals((number,))
            if value == "!=":
                return Not(Literals((number,)))
            return Compare(value, number)
        if kind == "op" and value in ("[", "(") and not (value == "[" and nxt == ("op", "]")):
            return self.range()
        return Literals((self.literal(),))

    def operand(self) -> float:
        kind, value = self.take()
        if kind == "number":
            return _number(value)
        if kind == "const":
            return self.constant(value)
        raise UnaryTestError(f"expected a number or $constant, found {value!r} in {self.text!r}")

    def constant(self, token: str) -> float:
        name = token[1:]
        if name not in self.constants:
            raise UnaryTestError(f"undefined constant ${name}")
        return self.constants[name]

    def range(self) -> Range:
        _, opening = self.take()
        lo = self.operand()
        self.expect("..")
        hi = self.operand()
        _, closing = self.take()
        if closing not in ("]", ")"):
            raise UnaryTestError(f"a range ends with ']' or ')', found {closing!r}")
        if lo > hi:
            raise UnaryTestError(f"empty range {self.text!r}: {lo} > {hi}")
        return Range(lo, opening == "[", hi, closing == "]")

    def literal(self) -> Literal:
        kind, value = self.take()
        if kind == "number":
            return _number(value)
        if kind == "const":
            return self.constant(value)
        if kind == "string":
            return value[1:-1]
        if kind == "word":
            if value in ("true", "false"):
                return value == "true"
            if value == "null":
                return None
            raise UnaryTestError(f'unquoted text {value!r}; write strings in quotes: "{value}"')
        if value == "[" and self.peek() == ("op", "]"):
            self.pos += 1
            return EMPTY_LIST
        if value == "]":
            raise UnaryTestError(f"a range opens with '[' or '(', not ']', in {self.text!r}")
        raise UnaryTestError(f"unexpected {value!r} in {self.text!r}")


def _number(text: str) -> int | float:
    value = float(text)
    if not math.isfinite(value):
        raise UnaryTestError(f"{text} is not a finite number")
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def parse(text: str, constants: Mapping[str, int | float] | None = None) -> Node:
    """Parse one cell. Raises ``UnaryTestError`` with a readable message."""
    return _Parser(text, constants or {}).parse()


def _fmt(value: Literal) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _check(node: Node, spec: InputDef) -> None:
    """Raise ``UnaryTestError`` when a literal or operator does not fit the input type."""
    match node:
        case AnyTest():
            return
        case Not(inner):
            _check(inner, spec)
        case AnyOf(tests):
            for test in tests:
                _check(test, spec)
        case Compare() | Range():
            if spec.type not in (FactType.INT, FactType.NUMBER):
                raise UnaryTestError(f"comparisons and ranges need a number input, not {spec.type}")
        case Literals(values):
            for value in values:
                _check_literal(value, spec)


def _check_literal(value: Literal, spec: InputDef) -> None:
    if value is None:
        return
    kind = spec.type
    if kind is FactType.BOOL:
        if not isinstance(value, bool):
            raise UnaryTestError(f"{_fmt(value)} does not fit bool input (use true/false)")
    elif kind in (FactType.INT, FactType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UnaryTestError(f"{_fmt(value)} does not fit {kind} input")
        if kind is FactType.INT and not float(value).is_integer():
            raise UnaryTestError(f"{_fmt(value)} does not fit int input")
        if spec.range is not None and not spec.range[0] <= value <= spec.range[1]:
            lo, hi = spec.range
            raise UnaryTestError(f"{_fmt(value)} is outside the range [{lo}..{hi}]")
    elif kind is FactType.ENUM_LIST and value is EMPTY_LIST:
        return
    elif not isinstance(value, str):
        raise UnaryTestError(f"{_fmt(value)} does not fit {kind} input (quote enum values)")
    elif value not in spec.values:
        raise UnaryTestError(f"{_fmt(value)} is not one of {list(spec.values)}")


def _compile(node: Node, spec: InputDef) -> Predicate:
    match node:
        case AnyTest():
            return _always
        case Not(inner):
            inner_fn = _compile(inner, spec)
            return lambda v: v is not None and not inner_fn(v)
        case AnyOf(tests):
            fns = tuple(_compile(test, spec) for test in tests)
            return lambda v: any(fn(v) for fn in fns)
        case Compare(op, k):
            return _compare(op, k)
        case Range(lo, lo_closed, hi, hi_closed):
            return _range(lo, lo_closed, hi, hi_closed)
        case Literals(values):
            has_null = None in values
            if spec.type is FactType.ENUM_LIST:
                return _contains_any(values, has_null)
            members = frozenset(v for v in values if v is not None)
            if not has_null:
                return members.__contains__
            if not members:
                return _is_null
            return lambda v: v is None or v in members
    raise UnaryTestError(f"cannot compile {node!r}")  # pragma: no cover - exhaustive match


def _always(value: Any) -> bool:
    return True


def _is_null(value: Any) -> bool:
    return value is None


def _contains_any(values: tuple[Literal, ...], has_null: bool) -> Predicate:
    wanted = frozenset(v for v in values if isinstance(v, str))
    has_empty = EMPTY_LIST in values

    def contains_any(value: Any) -> bool:
        if value is None:
            return has_null
        if not value:
            return has_empty
        return not wanted.isdisjoint(value)

    return contains_any


def _compare(op: str, k: float) -> Predicate:
    # One closure per operator so a request pays for a single comparison, not a dispatch.
    match op:
        case "<":
            return lambda v: v is not None and v < k
        case "<=":
            return lambda v: v is not None and v <= k
        case ">":
            return lambda v: v is not None and v > k
        case _:
            return lambda v: v is not None and v >= k


def _range(lo: float, lo_closed: bool, hi: float, hi_closed: bool) -> Predicate:
    if lo_closed and hi_closed:
        return lambda v: v is not None and lo <= v <= hi
    if lo_closed:
        return lambda v: v is not None and lo <= v < hi
    if hi_closed:
        return lambda v: v is not None and lo < v <= hi
    return lambda v: v is not None and lo < v < hi


def compile_test(
    raw: object, spec: InputDef, constants: Mapping[str, int | float] | None = None
) -> UnaryTest:
    """Parse, type-check and compile one cell for ``spec``.

    Raises ``UnaryTestError`` when the cell cannot be parsed or does not fit the input.
    """
    text = cell_text(raw)
    node = parse(text, constants)
    _check(node, spec)
    return UnaryTest(text=text, node=node, fn=_compile(node, spec))
