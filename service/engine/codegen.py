"""Generate one Python function for a whole ruleset, once, when an ``Evaluator`` is built.

The interpreter (``evaluator.Evaluator.explain``) pays, for every test of every rule, a
tuple unpack, a ``dict.get`` and a call through a closure. The function generated here
reads and checks each raw fact once into a local, keeps a chained output a later table
reads in a local too, tests inline (``v2 is True``, ``v0 is not None and v0 >= K1``) and
falls back to calling the compiled closure only for the rarer forms (lists, ``not(...)``,
mixed comma lists). An indexed table (``plan.TableIndex``) maps its column's value to a
block number and branches to that value's copy of the rules by a binary tree of ``if``,
so a table of 10,000 rules runs a handful of them. Semantics are the interpreter's
exactly, and differential tests hold the two to the same answers:

- a rule matches when every test passes;
- it is a partial match when no *answered* input fails and at least one unanswered input
  fails (a missing answer never passes a test unless the cell says ``null``);
- FIRST stops at the first match.

The source is built only from the ruleset's structure: fact names and literals reach it
as bound constants, never as text, so no cell content is ever executed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from popcheck.engine.checks import needs_check
from popcheck.engine.model import (
    Compare,
    CompiledRule,
    FactType,
    InputDef,
    Literals,
    PartialMatch,
    Predicate,
    Range,
    TableResult,
    UnaryTest,
)
from popcheck.engine.plan import RulePlan, RulesetPlan, TableIndex, TablePlan, partial_match

#: Every table's result for one set of facts, by table name, in evaluation order.
RulesetRun = Callable[[Mapping[str, Any]], dict[str, TableResult]]
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


def generate(plan: RulesetPlan, partial_for: Collection[str] | None = None) -> RulesetRun:
    """One function for the whole ruleset: check the facts, then every table in order.

    ``partial_for`` names the tables whose partial matches are collected (``None``: every
    table); the others report none, and their rules test only for a match.
    """
    src = _Source()
    src.emit(0, "def run(facts):")
    src.emit(1, "get = facts.get")
    var: dict[str, str] = {}
    # Every raw fact a table reads has a check (``checks.fact_checks``), so loading through
    # the checks reads each fact exactly once, before any table runs.
    for spec, check in plan.checks:
        if spec.name not in var:
            var[spec.name] = f"f{len(var)}"
            src.emit(1, f"{var[spec.name]} = get({src.const('N', spec.name)})")
        v = var[spec.name]
        test = needs_check(spec, v, src.const)
        src.emit(1, f"if {v} is not None:" if test is None else f"if {v} is not None and {test}:")
        src.emit(2, f"{src.const('F', check)}({v})")
    checked = frozenset(var)
    results: list[str] = []
    for number, table in enumerate(plan.tables):
        partial = partial_for is None or table.table.name in partial_for
        name = _emit_table(src, number, table, var, checked, partial)
        results.append(f"{name}: t{number}")
    src.emit(1, "return {" + ", ".join(results) + "}")
    src.namespace.update(ONCE=(None,), RESULT=TableResult)
    code = compile("\n".join(src.lines) + "\n", f"<ruleset run: {len(plan.tables)} tables>", "exec")
    exec(code, src.namespace)  # noqa: S102 - source built from structure, never from cell text
    run: RulesetRun = src.namespace["run"]
    return run


def _emit_table(
    src: _Source,
    number: int,
    table: TablePlan,
    var: dict[str, str],
    checked: Collection[str],
    partial: bool,
) -> str:
    """Run one table into ``matches`` (and ``partial``), then its ``value``, the locals
    later tables read (added to ``var``) and its result ``t<number>``; returns the name
    of the constant that holds the table's name."""
    src.emit(1, "matches = []")
    if partial:
        src.emit(1, "partial = []")
    depth, stop = 1, None
    if table.stop_at_first:
        # A loop run once, so that FIRST can leave its table with ``break``.
        src.emit(1, "for _ in ONCE:")
        depth, stop = 2, "break"

    def rules(depth: int, plans: Sequence[RulePlan]) -> None:
        if not plans:
            src.emit(depth, "pass")
        _emit_rules(src, depth, table, plans, var, stop, checked, partial)

    index = table.index
    if index is None:
        rules(depth, table.rules)
    else:
        block_of, blocks = _blocks(index)
        key = f"k{number}"
        src.emit(depth, f"{key} = {src.const('I', block_of)}.get({var[index.column]})")
        src.emit(depth, f"if {key} is None:")  # unanswered: every rule, for the partials
        rules(depth + 1, table.rules)
        src.emit(depth, "else:")
        _emit_tree(src, depth + 1, key, len(blocks), lambda d, n: rules(d, blocks[n]))
    src.emit(1, f"value = {src.const('R', table.resolve)}(matches)")
    for fact, publish in table.publish:
        var[fact] = f"c{len(var)}"
        src.emit(1, f"{var[fact]} = {src.const('X', publish)}(matches, value)")
    found = "tuple(partial)" if partial else "()"
    name = src.const("T", table.table.name)
    src.emit(1, f"t{number} = RESULT({name}, tuple(matches), {found}, value)")
    return name


def _blocks(index: TableIndex) -> tuple[dict[Any, int], list[tuple[RulePlan, ...]]]:
    """(block number of each value of the column, the rules of each block): values that
    leave the same rules share one block of code."""
    numbers: dict[tuple[str, ...], int] = {}
    blocks: list[tuple[RulePlan, ...]] = []
    block_of: dict[Any, int] = {}
    for value, left in index.rules.items():
        ids = tuple(plan.rule.id for plan in left)
        if ids not in numbers:
            numbers[ids] = len(blocks)
            blocks.append(left)
        block_of[value] = numbers[ids]
    return block_of, blocks


def _emit_tree(
    src: _Source, depth: int, key: str, count: int, leaf: Callable[[int, int], None], lo: int = 0
) -> None:
    """Branch on the block number ``key`` (``lo`` to ``lo + count - 1``) to the code that
    ``leaf(depth, number)`` emits, in about log2(count) comparisons."""
    if count == 1:
        leaf(depth, lo)
        return
    half = count // 2
    src.emit(depth, f"if {key} < {lo + half}:")
    _emit_tree(src, depth + 1, key, half, leaf, lo)
    src.emit(depth, "else:")
    _emit_tree(src, depth + 1, key, count - half, leaf, lo + half)


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


def _emit_rules(
    src: _Source,
    depth: int,
    table: TablePlan,
    rules: Sequence[RulePlan],
    var: Mapping[str, str],
    stop: str | None,
    checked: Collection[str],
    partial: bool,
) -> None:
    """Append ``rules`` to ``matches`` / ``partial``; ``stop`` ends the table after a match
    (FIRST), ``None`` runs every rule. ``checked`` names the inputs already type-checked in
    this function, whose values can only be of their declared type or ``None``. Without
    ``partial`` only matches are collected, which needs one plain test per input."""
    specs = {spec.name: spec for spec in table.table.inputs}
    for plan in rules:
        rule = plan.rule
        match_name = src.const("M", rule.match)
        if not plan.tests:
            src.emit(depth, f"matches.append({match_name})")
            if stop:
                src.emit(depth, stop)
            continue
        clauses: list[str] = []
        # Inputs whose test fails on an unanswered value: only these can be "missing".
        noneable: list[str] = []
        for name, fn in plan.tests:
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
            known = src.const("P", _partial_table(rule, noneable, table.order))
            src.emit(depth + 2, f"partial.append({known}[{key}])")
        else:
            build = src.const("B", _late_partial(rule, noneable, table.order))
            src.emit(depth + 2, f"partial.append({build}({key}))")


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


def _late_partial(
    rule: CompiledRule, noneable: Sequence[str], order: Mapping[str, int]
) -> Callable[[tuple[bool, ...]], PartialMatch]:
    """For rules with many unanswerable inputs: build the PartialMatch when it happens."""

    def build(flags: tuple[bool, ...]) -> PartialMatch:
        missing = [name for name, flag in zip(noneable, flags, strict=True) if flag]
        return partial_match(rule, missing, order)

    return build
