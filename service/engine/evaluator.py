"""Evaluate a loaded ruleset: ``Evaluator`` prepares it once, then runs it on any facts.

Building an ``Evaluator`` does all the work that does not depend on the facts: the plan
(``plan.build_plan``) and from it one generated function (``codegen.generate``). ``run``
is that function; ``explain`` interprets the plan rule by rule, the reference the
generated function is tested against, and records a trace. Neither touches anything
shared and mutable, so one ``Evaluator`` serves any number of threads without a lock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Any

from popcheck.engine.codegen import generate
from popcheck.engine.model import Evaluation, Match, PartialMatch, Ruleset, TableResult
from popcheck.engine.plan import RulesetPlan, TablePlan, build_plan, partial_match


class Evaluator:
    """A ruleset ready to evaluate, from any number of threads.

    ``partial_for`` names the tables whose partial matches ``run`` collects (``None``: every
    table); the others report none (an empty tuple) and their rules are tested for a match
    alone. Collecting partial matches costs a test per unanswered input and an append, and
    most of them are never read (popcheck asks only about rules that could raise the
    urgency). ``explain`` always reports every table's partial matches.
    """

    #: ``run(facts)``: every table's result, by table name, in evaluation order. The
    #: generated function itself rather than a method calling it: that saves a call per
    #: request.
    run: Callable[[Mapping[str, Any]], dict[str, TableResult]]

    def __init__(self, ruleset: Ruleset, *, partial_for: Collection[str] | None = None) -> None:
        if partial_for is not None:
            unknown = set(partial_for) - {table.name for table in ruleset.tables}
            if unknown:
                raise ValueError(f"no such table: {', '.join(sorted(unknown))}")
            partial_for = frozenset(partial_for)
        self.ruleset = ruleset
        self._plan = build_plan(ruleset)
        self.run = generate(self._plan, partial_for)

    def explain(self, facts: Mapping[str, Any]) -> Evaluation:
        """Every table's result, every partial match included, and a JSON-ready trace."""
        return _interpret(self._plan, facts, explain=True)


def evaluate(ruleset: Ruleset, facts: Mapping[str, Any], *, explain: bool = False) -> Evaluation:
    """Evaluate every table in dependency order: convenient, not fast.

    ``facts`` is a flat mapping of dotted paths; absent or ``None`` means unanswered.
    Raises ``EvaluationError`` when a fact does not fit its declared type or a table's
    hit policy is violated. With ``explain`` the result carries a JSON-ready trace.

    Each call plans the ruleset again and interprets it; to evaluate a ruleset often,
    build an ``Evaluator`` once and call its ``run`` (same answers, many times faster).
    """
    return _interpret(build_plan(ruleset), facts, explain=explain)


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


def _interpret(plan: RulesetPlan, facts: Mapping[str, Any], *, explain: bool) -> Evaluation:
    """The reference evaluation: check every raw fact, then run every rule of every table
    (no index), collecting every partial match, and near misses for the trace."""
    for spec, check in plan.checks:
        value = facts.get(spec.name)
        if value is not None:
            check(value)
    env = dict(facts)  # chained outputs are added here; the caller's mapping is untouched
    results: dict[str, TableResult] = {}
    trace: list[dict[str, Any]] | None = [] if explain else None
    for table in plan.tables:
        matches, partial, near = _run_table(table, env)
        value = table.resolve(matches)
        for fact, publish in table.publish:
            env[fact] = publish(matches, value)
        name = table.table.name
        results[name] = TableResult(name, tuple(matches), tuple(partial), value)
        if trace is not None:
            trace.append(
                {
                    "table": name,
                    "hit_policy": str(table.table.hit_policy),
                    "matched": [{"rule": m.rule_id, "outputs": _plain(m.outputs)} for m in matches],
                    "partial": [{"rule": p.rule_id, "missing": list(p.missing)} for p in partial],
                    "near_misses": near,
                    "value": plain_value(value),
                }
            )
    return Evaluation(results, trace)


def _run_table(
    table: TablePlan, env: Mapping[str, Any]
) -> tuple[list[Match], list[PartialMatch], list[dict[str, Any]]]:
    """(matches, partial matches, near misses) of one table: a near miss is a rule that
    failed on exactly one answered input."""
    matches: list[Match] = []
    partial: list[PartialMatch] = []
    near: list[dict[str, Any]] = []
    for plan in table.rules:
        rule = plan.rule
        failed: list[str] = []
        missing: list[str] = []
        for name, fn in plan.tests:
            value = env.get(name)
            if not fn(value):
                (missing if value is None else failed).append(name)
        if len(failed) == 1:
            name = failed[0]
            near.append(
                {"rule": rule.id, "failed": name, "test": rule.tests[name].text, "missing": missing}
            )
        elif failed:
            continue
        elif missing:
            partial.append(partial_match(rule, missing, table.order))
        else:
            matches.append(rule.match)
            if table.stop_at_first:
                break
    return matches, partial, near
