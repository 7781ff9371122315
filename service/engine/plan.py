"""What evaluating a ruleset needs beyond the ruleset itself, worked out once per ``Evaluator``.

A ``RulesetPlan`` is everything that does not depend on the facts: per table, every rule's
tests in run order (those that usually fail first, ``-`` columns dropped), the hit
policy's resolver, what later tables read of its result, and for a large table an index
on one column; for the ruleset, every raw fact's check. The interpreter
(``evaluator.Evaluator.explain``) walks it; the generator (``codegen.generate``) turns it
into one function.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from popcheck.engine.checks import Checker, checker, fact_checks
from popcheck.engine.errors import EvaluationError
from popcheck.engine.model import (
    Aggregation,
    CompiledRule,
    CompiledTable,
    FactType,
    HitPolicy,
    InputDef,
    Literals,
    Match,
    OutputType,
    PartialMatch,
    Predicate,
    Ruleset,
    UnaryTest,
)

#: A table's value from its matches (see ``model.TableResult.value``).
Resolver = Callable[[Sequence[Match]], Any]
#: What a chained table reads of ``<table>.<output>``, from the matches and the value.
Publisher = Callable[[Sequence[Match], Any], Any]
#: Tables of fewer rules are not indexed. An index runs fewer tests, but each value of the
#: column gets its own copy of the rules it leaves, so a request runs code colder in the CPU
#: caches: measured with a Flask request between evaluations (what a worker does), the
#: shipped tables (5 to 34 rules) ran faster unindexed.
INDEX_MIN_RULES = 64


@dataclass(frozen=True)
class RulePlan:
    """One rule and its (input, predicate) tests in run order."""

    rule: CompiledRule
    tests: tuple[tuple[str, Predicate], ...]


@dataclass(frozen=True)
class TableIndex:
    """A bool or enum column, and per value of it the rules that value leaves, without
    their test of the column (the index already proved it). An unanswered column runs
    every rule, so that partial matches survive."""

    column: str
    rules: Mapping[Any, tuple[RulePlan, ...]]


@dataclass(frozen=True)
class TablePlan:
    """One table, ready to run."""

    table: CompiledTable
    rules: tuple[RulePlan, ...]
    index: TableIndex | None
    #: FIRST: the table stops at its first match.
    stop_at_first: bool
    resolve: Resolver
    #: (chained fact name, publisher) for each output that a later table reads.
    publish: tuple[tuple[str, Publisher], ...]
    #: Position of each input in the table, to list missing inputs in table order.
    order: Mapping[str, int]


@dataclass(frozen=True)
class RulesetPlan:
    """Every table in evaluation order, and the check of every raw fact they read."""

    tables: tuple[TablePlan, ...]
    checks: tuple[tuple[InputDef, Checker], ...]


def build_plan(ruleset: Ruleset) -> RulesetPlan:
    """The plan of ``ruleset``; a table of at least ``INDEX_MIN_RULES`` rules is indexed on
    a column when that saves tests."""
    outputs = {f"{t.name}.{out.name}" for t in ruleset.tables for out in t.outputs}
    # The <table>.<output> facts that tables read: published by their table, never checked.
    chained = frozenset(s.name for t in ruleset.tables for s in t.inputs if s.name in outputs)
    tables = tuple(_table_plan(t, chained) for t in ruleset.tables)
    checks = tuple((spec, checker(spec)) for spec in fact_checks(ruleset.tables, chained))
    return RulesetPlan(tables, checks)


def _table_plan(table: CompiledTable, chained: frozenset[str]) -> TablePlan:
    specs = {spec.name: spec for spec in table.inputs}
    rules = []
    for rule in table.rules:
        run_order = sorted(rule.tests, key=lambda name: _selectivity(rule.tests[name], specs[name]))
        rules.append(RulePlan(rule, tuple((name, rule.tests[name].fn) for name in run_order)))
    stop_at_first, resolve = _policy(table)
    return TablePlan(
        table=table,
        rules=tuple(rules),
        index=_index(table, tuple(rules)) if len(rules) >= INDEX_MIN_RULES else None,
        stop_at_first=stop_at_first,
        resolve=resolve,
        publish=tuple(
            (fact, _publisher(table, out.name))
            for out in table.outputs
            if (fact := f"{table.name}.{out.name}") in chained
        ),
        order={spec.name: i for i, spec in enumerate(table.inputs)},
    )


def _selectivity(test: UnaryTest, spec: InputDef) -> float:
    """Roughly how often ``test`` matches: tests that usually fail run first, to stop early."""
    if spec.type in (FactType.BOOL, FactType.ENUM):
        values = (True, False) if spec.type is FactType.BOOL else spec.values
        points = dict.fromkeys([*values, None])
        return len(_passing(test, points)) / len(points)
    if spec.type is FactType.ENUM_LIST:
        lists: list[Any] = [[], *([v] for v in spec.values), None]
        return sum(1 for p in lists if test.fn(p)) / len(lists)
    return 0.2 if isinstance(test.node, Literals) else 0.5


def _passing(test: UnaryTest, points: Collection[Any]) -> list[Any]:
    """The ``points`` (bool or enum values, or ``None``) where ``test`` passes, in no
    particular order; ``points`` is a dict or set, for its fast ``in``. A list of literals
    passes only its own values, so only those are tried: an enum of 2,500 values would
    otherwise cost 2,500 calls per rule, and an index on it 25 million for 10,000 rules."""
    node = test.node
    tried = dict.fromkeys(node.values) if isinstance(node, Literals) else points
    return [p for p in tried if p in points and test.fn(p)]


def _index(table: CompiledTable, rules: tuple[RulePlan, ...]) -> TableIndex | None:
    """The index on the bool or enum column that leaves the fewest rules to run on average,
    or ``None`` when no column leaves fewer than all of them."""
    best: tuple[float, TableIndex] | None = None
    for spec in table.inputs:
        if spec.type not in (FactType.BOOL, FactType.ENUM):
            continue
        if not any(spec.name in plan.rule.tests for plan in rules):
            continue
        keys = (True, False) if spec.type is FactType.BOOL else spec.values
        left: dict[Any, list[RulePlan]] = {key: [] for key in keys}
        for plan in rules:
            test = plan.rule.tests.get(spec.name)
            if test is None:
                for key in keys:
                    left[key].append(plan)
                continue
            rest = RulePlan(plan.rule, tuple(t for t in plan.tests if t[0] != spec.name))
            for key in _passing(test, left):
                left[key].append(rest)
        cost = sum(len(v) for v in left.values()) / len(keys)
        if best is None or cost < best[0]:
            best = (cost, TableIndex(spec.name, {k: tuple(v) for k, v in left.items()}))
    if best is None or best[0] >= len(rules):
        return None
    return best[1]


def _policy(table: CompiledTable) -> tuple[bool, Resolver]:
    """The one place hit policies are dispatched: (stop at first match, resolver)."""
    name = table.name
    match table.hit_policy:
        case HitPolicy.UNIQUE:

            def unique(matches: Sequence[Match]) -> Any:
                if len(matches) > 1:
                    ids = ", ".join(m.rule_id for m in matches)
                    raise EvaluationError(f"table {name!r} is UNIQUE but rules {ids} all match")
                return matches[0].outputs if matches else None

            return False, unique
        case HitPolicy.ANY:

            def any_(matches: Sequence[Match]) -> Any:
                if not matches:
                    return None
                first = matches[0].outputs
                for other in matches[1:]:
                    if other.outputs != first:
                        raise EvaluationError(
                            f"table {name!r} is ANY but rules {matches[0].rule_id} and "
                            f"{other.rule_id} match with different outputs"
                        )
                return first

            return False, any_
        case HitPolicy.FIRST:
            return True, lambda matches: matches[0].outputs if matches else None
        case HitPolicy.PRIORITY:
            key = table.outputs[0].name
            rank = {value: i for i, value in enumerate(table.outputs[0].values)}

            def priority(matches: Sequence[Match]) -> Any:
                if not matches:
                    return None
                # min() keeps the earliest rule among equal ranks: file order breaks ties.
                return min(matches, key=lambda m: rank[m.outputs[key]]).outputs

            return False, priority
        case HitPolicy.COLLECT:
            return False, _aggregate(table)
        case HitPolicy.RULE_ORDER:
            return False, _collect
    raise EvaluationError(f"unknown hit policy {table.hit_policy!r}")  # pragma: no cover


def _collect(matches: Sequence[Match]) -> Any:
    return [m.outputs for m in matches]


def _aggregate(table: CompiledTable) -> Resolver:
    if table.aggregation is None:
        return _collect
    if table.aggregation is Aggregation.COUNT:
        return len
    out = table.outputs[0]
    key = out.name
    if table.aggregation is Aggregation.SUM:
        return lambda matches: sum(m.outputs[key] for m in matches)
    pick = min if table.aggregation is Aggregation.MIN else max
    if out.type is OutputType.ENUM:
        # MIN/MAX over an enum follow the order of its declared values.
        rank = {value: i for i, value in enumerate(out.values)}
        return lambda matches: (
            pick((m.outputs[key] for m in matches), key=rank.__getitem__) if matches else None
        )
    return lambda matches: pick(m.outputs[key] for m in matches) if matches else None


def _publisher(table: CompiledTable, output: str) -> Publisher:
    """How ``<table>.<output>`` is read by a chained table (see docs/rules.md, Chaining)."""
    if table.hit_policy is HitPolicy.COLLECT and table.aggregation is not None:
        return lambda matches, value: value
    if table.hit_policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER):
        return lambda matches, value: [m.outputs[output] for m in matches]
    return lambda matches, value: None if value is None else value[output]


def partial_match(
    rule: CompiledRule, missing: Sequence[str], order: Mapping[str, int]
) -> PartialMatch:
    """The PartialMatch of ``rule`` with ``missing`` inputs, listed in table order."""
    return PartialMatch(rule.id, rule.outputs, tuple(sorted(missing, key=order.__getitem__)))
