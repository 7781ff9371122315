"""Compile one decision table into a Python function, once, at load time.

The interpreted loop (``evaluator._run``) pays, for every test of every rule, a tuple unpack,
a ``dict.get`` and a call through a closure; on the shipped ruleset that was most of the
engine's time. The function generated here reads each input once into a local, tests inline
(``v2 is True``, ``v0 is not None and v0 >= K1``) and falls back to calling the compiled
closure only for the rarer forms (lists, ``not(...)``, mixed comma lists). Semantics are
``_run``'s exactly, and a differential test holds the two to the same answers:

- a rule matches when every test passes;
- it is a partial match when no *answered* input fails and at least one unanswered input
  fails (a missing answer never passes a test unless the cell says ``null``);
- FIRST stops at the first match.

The source is built only from the table's structure: input names and literals reach it as
bound constants, never as text, so no cell content is ever executed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.engine.model import (
    Compare,
    CompiledRule,
    FactType,
    InputDef,
    Literals,
    Match,
    PartialMatch,
    Predicate,
    Range,
    TableResult,
    UnaryTest,
)

#: (matches, partial matches) of one table for one set of facts.
TableRun = Callable[[Mapping[str, Any]], tuple[list[Match], list[PartialMatch]]]
#: Rules with more unanswerable tests than this build their PartialMatch per request.
MAX_PRECOMPUTED_PARTIALS = 6

_COMPARE_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Source:
    """Accumulates generated lines and the constants they refer to by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}

    def const(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _inline(src: _Source, var: str, test: UnaryTest, spec: InputDef, fn: Predicate) -> str:
    """A Python expression equal to ``fn(var)``: inline for the common forms, else a call."""
    node = test.node
    plain = spec.type is not FactType.ENUM_LIST and None not in getattr(node, "values", (None,))
    if isinstance(node, Literals) and plain:
        values = node.values
        if spec.type is FactType.BOOL and len(values) == 1:
            # Bool facts are type-checked before any table runs, so identity is exact.
            return f"{var} is {values[0]!r}"
        if len(values) == 1 and isinstance(values[0], str):
            return f"{var} == {src.const('S', values[0])}"
        return f"{var} in {src.const('C', frozenset(values))}"
    if isinstance(node, Compare) and node.op in _COMPARE_OPS:
        return f"({var} is not None and {var} {_COMPARE_OPS[node.op]} {src.const('K', node.value)})"
    if isinstance(node, Range):
        lo = "<=" if node.lo_closed else "<"
        hi = "<=" if node.hi_closed else "<"
        low, high = src.const("K", node.lo), src.const("K", node.hi)
        return f"({var} is not None and {low} {lo} {var} {hi} {high})"
    return f"{src.const('F', fn)}({var})"


def _bool_literal(test: UnaryTest, spec: InputDef) -> bool | None:
    """``b`` when the test is the single literal ``true`` or ``false`` of a bool input."""
    node = test.node
    if spec.type is FactType.BOOL and isinstance(node, Literals) and len(node.values) == 1:
        value = node.values[0]
        if isinstance(value, bool):
            return value
    return None


def _partial_table(
    rule: CompiledRule, noneable: Sequence[str], order: Mapping[str, int]
) -> dict[tuple[bool, ...], PartialMatch]:
    """Every PartialMatch of ``rule``, keyed by which of its ``noneable`` inputs are missing."""
    table: dict[tuple[bool, ...], PartialMatch] = {}
    for flags in itertools.product((False, True), repeat=len(noneable)):
        missing = [name for name, flag in zip(noneable, flags, strict=True) if flag]
        if missing:
            table[flags] = partial_match(rule, missing, order)
    return table


def partial_match(
    rule: CompiledRule, missing: Sequence[str], order: Mapping[str, int]
) -> PartialMatch:
    """The PartialMatch of ``rule`` with ``missing`` inputs, listed in table order."""
    return PartialMatch(rule.id, rule.outputs, tuple(sorted(missing, key=order.__getitem__)))


#: One rule and its tests in run order.
RuleTests = tuple[CompiledRule, Sequence[tuple[str, Predicate]]]


def _emit_rules(
    src: _Source,
    depth: int,
    inputs: Sequence[InputDef],
    rules: Sequence[RuleTests],
    var: Mapping[str, str],
    stop: str | None,
    checked: Collection[str] = (),
    *,
    partial: bool = True,
) -> None:
    """Append ``rules`` to ``matches`` / ``partial``; ``stop`` ends the table after a match
    (FIRST), ``None`` runs every rule. ``checked`` names the inputs already type-checked in
    this function, whose values can only be of their declared type or ``None``. Without
    ``partial`` only matches are collected, which needs one plain test per input."""
    specs = {spec.name: spec for spec in inputs}
    order = {spec.name: i for i, spec in enumerate(inputs)}
    for rule, tests in rules:
        match_name = src.const("M", rule.match)
        if not tests:
            src.emit(depth, f"matches.append({match_name})")
            if stop:
                src.emit(depth, stop)
            continue
        clauses: list[str] = []
        # Inputs whose test fails on an unanswered value: only these can be "missing".
        noneable: list[str] = []
        for name, fn in tests:
            expr = _inline(src, var[name], rule.tests[name], specs[name], fn)
            if fn(None):
                clauses.append(expr)
                continue
            noneable.append(name)
            flag = _bool_literal(rule.tests[name], specs[name])
            if not partial:
                # Only a match counts, and this test fails on an unanswered value: ``expr``
                # alone decides (a checked bool passes only as the very literal).
                clauses.append(f"{var[name]} is {flag!r}" if flag is not None else expr)
            elif flag is not None and name in checked:
                # A checked bool is True, False or None: "is b or is None" is "is not (not b)".
                clauses.append(f"{var[name]} is not {not flag!r}")
            else:
                clauses.append(f"({expr} or {var[name]} is None)")
        src.emit(depth, f"if {' and '.join(clauses)}:")
        if not noneable or not partial:
            src.emit(depth + 1, f"matches.append({match_name})")
            if stop:
                src.emit(depth + 1, stop)
            continue
        # Inside, each noneable test either passed (so its value is answered) or is missing.
        answered = " and ".join(f"{var[name]} is not None" for name in noneable)
        src.emit(depth + 1, f"if {answered}:")
        src.emit(depth + 2, f"matches.append({match_name})")
        if stop:
            src.emit(depth + 2, stop)
        src.emit(depth + 1, "else:")
        key = "(" + "".join(f"{var[name]} is None, " for name in noneable) + ")"
        if len(noneable) <= MAX_PRECOMPUTED_PARTIALS:
            table = src.const("P", _partial_table(rule, noneable, order))
            src.emit(depth + 2, f"partial.append({table}[{key}])")
        else:
            build = src.const("B", _late_partial(rule, noneable, order))
            src.emit(depth + 2, f"partial.append({build}({key}))")


def _define(src: _Source, name: str, filename: str) -> Any:
    code = compile("\n".join(src.lines) + "\n", filename, "exec")
    exec(code, src.namespace)  # noqa: S102 - source built from structure, never from cell text
    return src.namespace[name]


def compile_table_run(
    inputs: Sequence[InputDef], rules: Sequence[RuleTests], stop_at_first: bool
) -> TableRun:
    """Generate the table's run function from its rules, each with its tests in run order."""
    used = [spec.name for spec in inputs if any(spec.name in rule.tests for rule, _ in rules)]
    var = {name: f"v{i}" for i, name in enumerate(used)}
    src = _Source()
    src.emit(0, "def run(env):")
    src.emit(1, "get = env.get")
    for name in used:
        src.emit(1, f"{var[name]} = get({src.const('N', name)})")
    src.emit(1, "matches = []")
    src.emit(1, "partial = []")
    stop = "return matches, partial" if stop_at_first else None
    _emit_rules(src, 1, inputs, rules, var, stop)
    src.emit(1, "return matches, partial")
    run: TableRun = _define(src, "run", f"<table run: {len(rules)} rules>")
    return run


@dataclass(frozen=True)
class TableSteps:
    """What the whole-ruleset function needs of one table, beyond its rules."""

    name: str
    inputs: Sequence[InputDef]
    rules: Sequence[RuleTests]
    stop_at_first: bool
    resolve: Callable[[Sequence[Match]], Any]
    #: (chained fact name, extractor) for each output a later table reads.
    publish: Sequence[tuple[str, Callable[[Sequence[Match], Any], Any]]]


#: Every table's result for one set of facts, by table name, in evaluation order.
RulesetRun = Callable[[Mapping[str, Any]], dict[str, TableResult]]


def compile_ruleset_run(
    tables: Sequence[TableSteps],
    checks: FactChecks,
    chained: Collection[str],
    partial_for: Collection[str] | None = None,
) -> RulesetRun:
    """One function for the whole ruleset: check the facts, then every table in order.

    Each raw fact is read once for all tables, and a chained output a later table reads is
    a local variable, so no working copy of the facts is made and no per-table function is
    called. Only for rulesets without indexed tables (``evaluate`` decides).

    ``partial_for`` names the tables whose partial matches are collected (``None``: every
    table); the others report none, and their rules test only for a match.
    """
    src = _Source()
    src.emit(0, "def run(facts):")
    src.emit(1, "get = facts.get")
    var: dict[str, str] = {}
    # Every raw fact a table reads has a type test, so loading through the checks reads
    # each fact exactly once, before any table runs.
    _emit_fact_checks(src, checks, var)
    checked = frozenset(var)
    for table in tables:
        for spec in table.inputs:
            if spec.name not in var and spec.name not in chained:  # pragma: no cover
                raise AssertionError(f"fact {spec.name!r} has no type test")
    results: list[tuple[str, str]] = []
    for number, table in enumerate(tables):
        partial = partial_for is None or table.name in partial_for
        src.emit(1, "matches = []")
        if partial:
            src.emit(1, "partial = []")
        if table.stop_at_first:
            # A loop run once, so that FIRST can leave its table with ``break``.
            src.emit(1, "for _ in ONCE:")
            src.emit(2, "pass")  # a table may have no rules
            _emit_rules(src, 2, table.inputs, table.rules, var, "break", checked, partial=partial)
        else:
            _emit_rules(src, 1, table.inputs, table.rules, var, None, checked, partial=partial)
        src.emit(1, f"value = {src.const('R', table.resolve)}(matches)")
        for fact, publish in table.publish:
            var[fact] = f"c{len(var)}"
            src.emit(1, f"{var[fact]} = {src.const('X', publish)}(matches, value)")
        name = src.const("T", table.name)
        found = "tuple(partial)" if partial else "()"
        src.emit(1, f"t{number} = RESULT({name}, tuple(matches), {found}, value)")
        results.append((name, f"t{number}"))
    src.emit(1, "return {" + ", ".join(f"{name}: {local}" for name, local in results) + "}")
    src.namespace.update(ONCE=(None,), RESULT=TableResult)
    run: RulesetRun = _define(src, "run", f"<ruleset run: {len(tables)} tables>")
    return run


def _late_partial(
    rule: CompiledRule, noneable: Sequence[str], order: Mapping[str, int]
) -> Callable[[tuple[bool, ...]], PartialMatch]:
    """For rules with many unanswerable inputs: build the PartialMatch when it happens."""

    def build(flags: tuple[bool, ...]) -> PartialMatch:
        missing = [name for name, flag in zip(noneable, flags, strict=True) if flag]
        return partial_match(rule, missing, order)

    return build


#: Validates a request's raw facts, given their mapping's ``get``; raises on the first misfit.
FactCheck = Callable[[Callable[[str], Any]], None]


@dataclass(frozen=True)
class FactChecks:
    """Every raw fact's type test, in the order they run (bools, enums, then the rest), and
    the functions that raise the engine's errors."""

    bools: Sequence[str]
    enums: Sequence[tuple[str, frozenset[str]]]
    checks: Sequence[tuple[str, Callable[[Any], None], InputDef]]
    fail_bool: Callable[[str, Any], None]
    fail_enum: Callable[[str], None]


def _emit_fact_checks(src: _Source, checks: FactChecks, var: dict[str, str]) -> None:
    """Read each fact into a local once (named in ``var``) and test its type inline.

    Whole integers inside their range (most numbers) pass inline; anything else goes to the
    fact's full checker, which accepts valid floats and raises with the precise reason.
    """

    def load(name: str) -> str:
        if name not in var:
            var[name] = f"f{len(var)}"
            src.emit(1, f"{var[name]} = get({src.const('N', name)})")
        return var[name]

    for name in checks.bools:
        v = load(name)
        src.emit(1, f"if {v} is not None and {v}.__class__ is not bool:")
        src.emit(2, f"{src.const('F', checks.fail_bool)}({src.const('N', name)}, {v})")
    for name, allowed in checks.enums:
        v = load(name)
        members = src.const("C", allowed)
        src.emit(1, f"if {v} is not None and ({v}.__class__ is not str or {v} not in {members}):")
        src.emit(2, f"{src.const('F', checks.fail_enum)}({src.const('N', name)})")
    for name, checker, spec in checks.checks:
        v = load(name)
        if spec.type in (FactType.INT, FactType.NUMBER) and spec.range is not None:
            low, high = src.const("K", spec.range[0]), src.const("K", spec.range[1])
            src.emit(
                1,
                f"if {v} is not None and ({v}.__class__ is not int or not {low} <= {v} <= {high}):",
            )
        else:
            src.emit(1, f"if {v} is not None:")
        src.emit(2, f"{src.const('F', checker)}({v})")


def compile_fact_check(checks: FactChecks) -> FactCheck:
    """One straight-line function for every fact type test (used on the per-table path)."""
    src = _Source()
    src.emit(0, "def check(get):")
    src.emit(1, "pass")
    _emit_fact_checks(src, checks, {})
    check: FactCheck = _define(src, "check", "<fact check>")
    return check
