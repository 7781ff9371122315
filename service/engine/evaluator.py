"""Evaluate a compiled ruleset: a pure function of (ruleset, facts).

All the work that does not depend on the facts is done once by ``build_plan`` at load
time: per table the (input, closure) pairs of every rule with ``-`` columns dropped, an
index from a discrete column's value to the rules that can still match, and the hit
policy's resolver. ``evaluate`` then only calls closures, so it needs no lock: nothing it
touches is shared and mutable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from service.engine.codegen import (
    FactCheck,
    FactChecks,
    RulesetRun,
    TableRun,
    TableSteps,
    compile_fact_check,
    compile_ruleset_run,
    compile_table_run,
    partial_match,
)
from service.engine.errors import EvaluationError
from service.engine.model import (
    Aggregation,
    CompiledRule,
    CompiledTable,
    Evaluation,
    FactType,
    HitPolicy,
    InputDef,
    Literals,
    Match,
    OutputType,
    PartialMatch,
    Predicate,
    Ruleset,
    TableResult,
    UnaryTest,
)

_Tests = tuple[tuple[str, Predicate], ...]
#: A rule and its tests in run order.
_Candidate = tuple[CompiledRule, _Tests]
Resolver = Callable[[Sequence[Match]], Any]
#: Smaller tables run one generated function over all their rules. An index (one function
#: per value of a column) runs fewer tests, but in a live server each request then runs
#: code that is colder in the CPU caches; measured with a Flask request between evaluations
#: (what a worker does), the shipped tables (5 to 34 rules) ran faster unindexed.
_INDEX_MIN_RULES = 64
Publisher = Callable[[Sequence[Match], Any], Any]


@dataclass(frozen=True)
class TablePlan:
    """What ``evaluate`` needs for one table, precomputed at load time."""

    candidates: tuple[_Candidate, ...]
    index_input: str | None
    index: Mapping[Any, tuple[_Candidate, ...]]
    stop_at_first: bool
    resolve: Resolver
    #: (fact name, extractor) for each output that later tables read.
    publish: tuple[tuple[str, Publisher], ...]
    #: Position of each input in the table, to report missing inputs in table order.
    order: Mapping[str, int]
    #: The generated run function over every rule, and one per value of the indexed column
    #: over the rules that value leaves (see ``service.engine.codegen``).
    run_all: TableRun
    runs: Mapping[Any, TableRun]


@dataclass(frozen=True)
class RulesetPlan:
    """What ``evaluate`` runs for the whole ruleset, generated at load time."""

    #: The type test of every raw fact a table reads (``codegen.compile_fact_check``), for
    #: the per-table path.
    check: FactCheck
    #: Every table in one generated function (``codegen.compile_ruleset_run``), or ``None``
    #: when a table is indexed and runs through its per-key functions instead.
    run: RulesetRun | None = None
    #: Generates that function again with partial matches for the named tables only
    #: (``evaluator_for``); ``None`` whenever ``run`` is ``None``.
    generate: Callable[[Collection[str]], RulesetRun] | None = None


def plain_value(value: Any) -> Any:
    """A table's ``value`` as plain JSON-ready data (dicts instead of read-only views).

    Values hand out the rules' read-only outputs themselves: nobody can edit the ruleset
    through them, and a request copies nothing. The trace and messages need plain dicts.
    """
    if isinstance(value, MappingProxyType):
        return _plain(value)
    if isinstance(value, list):
        return [_plain(item) if isinstance(item, MappingProxyType) else item for item in value]
    return value


def _plain(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """A caller-owned copy of a rule's read-only outputs.

    Rule outputs are ``MappingProxyType`` views (so nobody can edit the ruleset through
    a result); their ``copy()`` is a C-level dict copy, several times faster than
    ``dict(proxy)``, which goes through the generic mapping protocol.
    """
    copy: dict[str, Any] = outputs.copy()  # type: ignore[attr-defined]
    return copy


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


def _index(
    table: CompiledTable, candidates: tuple[_Candidate, ...]
) -> tuple[str | None, dict[Any, tuple[_Candidate, ...]]]:
    """Index the most selective bool/enum column: value -> rules that can still match.

    The indexed column's test is dropped from those candidates (the index already
    proved it); an unanswered value falls back to every rule so partial matches survive.
    """
    best: tuple[float, str, dict[Any, tuple[_Candidate, ...]]] | None = None
    for spec in table.inputs:
        if spec.type is FactType.BOOL:
            keys: tuple[Any, ...] = (True, False)
        elif spec.type is FactType.ENUM:
            keys = spec.values
        else:
            continue
        if not any(spec.name in rule.tests for rule, _ in candidates):
            continue
        index: dict[Any, tuple[_Candidate, ...]] = {}
        for key in keys:
            index[key] = tuple(
                (rule, tuple(t for t in tests if t[0] != spec.name))
                for rule, tests in candidates
                if spec.name not in rule.tests or rule.tests[spec.name].fn(key)
            )
        cost = sum(len(c) for c in index.values()) / len(keys)
        if best is None or cost < best[0]:
            best = (cost, spec.name, index)
    if best is None or best[0] >= len(candidates):
        return None, {}
    return best[1], best[2]


def _selectivity(test: UnaryTest, spec: InputDef) -> float:
    """Roughly how often ``test`` matches: tests that usually fail run first, to stop early."""
    if spec.type in (FactType.BOOL, FactType.ENUM):
        points: list[Any] = [True, False] if spec.type is FactType.BOOL else list(spec.values)
    elif spec.type is FactType.ENUM_LIST:
        points = [[]] + [[v] for v in spec.values]
    else:
        return 0.2 if isinstance(test.node, Literals) else 0.5
    points.append(None)
    return sum(1 for p in points if test.fn(p)) / len(points)


def build_table_plan(
    table: CompiledTable, read_by_others: set[str], *, index_min_rules: int = _INDEX_MIN_RULES
) -> TablePlan:
    """Precompute everything ``evaluate`` needs for ``table``; a table of at least
    ``index_min_rules`` rules is indexed."""
    specs = {spec.name: spec for spec in table.inputs}
    order = {spec.name: i for i, spec in enumerate(table.inputs)}
    candidates: list[_Candidate] = []
    for rule in table.rules:
        run_order = sorted(rule.tests, key=lambda name: _selectivity(rule.tests[name], specs[name]))
        candidates.append((rule, tuple((name, rule.tests[name].fn) for name in run_order)))
    index_input: str | None = None
    index: dict[Any, tuple[_Candidate, ...]] = {}
    if len(candidates) >= index_min_rules:
        index_input, index = _index(table, tuple(candidates))
    stop_at_first, resolve = _policy(table)
    publish = tuple(
        (f"{table.name}.{out.name}", _publisher(table, out.name))
        for out in table.outputs
        if f"{table.name}.{out.name}" in read_by_others
    )

    def generate(subset: Sequence[_Candidate]) -> TableRun:
        return compile_table_run(table.inputs, subset, stop_at_first)

    return TablePlan(
        candidates=tuple(candidates),
        index_input=index_input,
        index=index,
        stop_at_first=stop_at_first,
        resolve=resolve,
        publish=publish,
        order=order,
        run_all=generate(candidates),
        runs={key: generate(subset) for key, subset in index.items()},
    )


def _checker(spec: InputDef) -> Callable[[Any], None]:
    """A validator for one raw fact; messages name the fact but never echo its value.

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


def build_plan(tables: Sequence[CompiledTable], chained: set[str]) -> RulesetPlan:
    """The ruleset-level plan: one validator per distinct (fact, declared type) pair."""
    specs = dict.fromkeys(
        spec for table in tables for spec in table.inputs if spec.name not in chained
    )
    bools = tuple(dict.fromkeys(s.name for s in specs if s.type is FactType.BOOL))
    enums = tuple(
        dict.fromkeys((s.name, frozenset(s.values)) for s in specs if s.type is FactType.ENUM)
    )
    others = [s for s in specs if s.type not in (FactType.BOOL, FactType.ENUM)]
    checks = tuple((s.name, _checker(s), s) for s in others)
    fact_checks = FactChecks(bools, enums, checks, _fail_bool, _fail_enum)
    plans: list[TablePlan] = [table.plan for table in tables]
    if any(plan.index_input is not None for plan in plans):
        return RulesetPlan(check=compile_fact_check(fact_checks))
    steps = [
        TableSteps(t.name, t.inputs, p.candidates, p.stop_at_first, p.resolve, p.publish)
        for t, p in zip(tables, plans, strict=True)
    ]

    def generate(partial_for: Collection[str]) -> RulesetRun:
        return compile_ruleset_run(steps, fact_checks, chained, frozenset(partial_for))

    return RulesetPlan(
        check=compile_fact_check(fact_checks),
        run=compile_ruleset_run(steps, fact_checks, chained),
        generate=generate,
    )


def _fail_bool(name: str, value: Any) -> None:
    raise EvaluationError(f"fact {name!r} must be a bool, got {type(value).__name__}")


def _fail_enum(name: str) -> None:
    raise EvaluationError(f"fact {name!r} is not one of its enum values")


def _run_explained(
    table: CompiledTable, env: Mapping[str, Any]
) -> tuple[list[Match], list[PartialMatch], list[dict[str, Any]]]:
    """Like ``_run`` over every rule, also recording near misses for the trace."""
    plan: TablePlan = table.plan
    matches: list[Match] = []
    partial: list[PartialMatch] = []
    near: list[dict[str, Any]] = []
    for rule, tests in plan.candidates:
        failed: list[str] = []
        missing: list[str] = []
        for name, fn in tests:
            value = env.get(name)
            if not fn(value):
                (missing if value is None else failed).append(name)
        if failed:
            if len(failed) == 1:
                name = failed[0]
                near.append(
                    {
                        "rule": rule.id,
                        "failed": name,
                        "test": rule.tests[name].text,
                        "missing": missing,
                    }
                )
        elif missing:
            partial.append(partial_match(rule, missing, plan.order))
        else:
            matches.append(rule.match)
            if plan.stop_at_first:
                break
    return matches, partial, near


def evaluate(ruleset: Ruleset, facts: Mapping[str, Any], *, explain: bool = False) -> Evaluation:
    """Evaluate every table in dependency order.

    ``facts`` is a flat mapping of dotted paths; absent or ``None`` means unanswered.
    Raises ``EvaluationError`` when a fact does not fit its declared type or a table's
    hit policy is violated. With ``explain`` the result carries a JSON-ready trace.
    """
    plan: RulesetPlan = ruleset.plan
    if plan.run is not None and not explain:
        return Evaluation(plan.run(facts), None)
    plan.check(facts.get)
    env = dict(facts)  # chained outputs are added here; the caller's mapping is untouched
    results: dict[str, TableResult] = {}
    trace: list[dict[str, Any]] | None = [] if explain else None
    for table in ruleset.tables:
        table_plan: TablePlan = table.plan
        if trace is None:
            index_input = table_plan.index_input
            if index_input is None:
                matches, partial = table_plan.run_all(env)
            else:
                run = table_plan.runs.get(env.get(index_input), table_plan.run_all)
                matches, partial = run(env)
        else:
            matches, partial, near = _run_explained(table, env)
        value = table_plan.resolve(matches)
        for fact, publish in table_plan.publish:
            env[fact] = publish(matches, value)
        results[table.name] = TableResult(table.name, tuple(matches), tuple(partial), value)
        if trace is not None:
            trace.append(
                {
                    "table": table.name,
                    "hit_policy": str(table.hit_policy),
                    "matched": [{"rule": m.rule_id, "outputs": _plain(m.outputs)} for m in matches],
                    "partial": [{"rule": p.rule_id, "missing": list(p.missing)} for p in partial],
                    "near_misses": near,
                    "value": plain_value(value),
                }
            )
    return Evaluation(results, trace)


def evaluator_for(
    ruleset: Ruleset, *, partial_for: Collection[str]
) -> Callable[[Mapping[str, Any]], Mapping[str, TableResult]]:
    """``evaluate(ruleset, facts).results`` for a caller that reads the partial matches of
    the ``partial_for`` tables only: every other table reports none (an empty tuple).

    Prepare it once, at load time. Collecting partial matches costs a test per unanswered
    input and an append, and most of them are never read (popcheck's assembly asks only
    about rules that could raise the urgency); a rule that only has to match needs one
    plain test per input.
    """
    unknown = set(partial_for) - {table.name for table in ruleset.tables}
    if unknown:
        raise ValueError(f"no such table: {', '.join(sorted(unknown))}")
    plan: RulesetPlan = ruleset.plan
    if plan.generate is not None:
        return plan.generate(partial_for)
    wanted = frozenset(partial_for)

    def evaluate_indexed(facts: Mapping[str, Any]) -> Mapping[str, TableResult]:
        # Indexed tables run table by table; drop what the caller will not read.
        results = dict(evaluate(ruleset, facts).results)
        for name, result in results.items():
            if name not in wanted and result.partial:
                results[name] = result._replace(partial=())
        return results

    return evaluate_indexed
