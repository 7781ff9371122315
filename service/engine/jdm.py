"""Export a compiled ruleset as a GoRules JDM decision graph (``popcheck rules export``).

Authors can open the export in GoRules' editor and simulate it; a test loads it into the
``zen-engine`` package and checks it answers like our engine. The graph is a chain in our
evaluation order: ``Request -> table -> facts -> table -> facts ... -> Response``.

- Each table becomes a ``decisionTableNode`` writing to ``rows.<table>``. zen knows only
  ``first`` and ``collect``: UNIQUE and ANY export as ``first`` (the checker proved that
  their matches cannot disagree), PRIORITY as ``first`` over the rules sorted by priority
  (stable, so file order still breaks ties), COLLECT and RULE ORDER as ``collect``.
- After each table an ``expressionNode`` publishes ``facts.<table>.<output>``, the value a
  chained table reads (the list, the aggregate or the single value; see docs/rules.md).
- Input columns have no ``field``, so each cell is a full boolean expression over the
  request paths. That lets the export spell out our null semantics exactly (a missing
  answer never matches a comparison or ``not(...)``); zen's own unary shorthand cannot.
"""

from __future__ import annotations

import json
from typing import Any

from popcheck.engine.model import (
    EMPTY_LIST,
    Aggregation,
    AnyOf,
    AnyTest,
    Compare,
    CompiledRule,
    CompiledTable,
    FactType,
    HitPolicy,
    Literal,
    Literals,
    Node,
    Not,
    OutputType,
    Range,
    Ruleset,
)

CONTENT_TYPE = "application/vnd.gorules.decision"


def _literal(value: Literal | Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def cell_expression(node: Node, subject: str, kind: FactType) -> str:
    """A zen boolean expression that is true exactly when ``node`` matches ``subject``."""
    match node:
        case AnyTest():
            return ""
        case Literals(values):
            parts = []
            if None in values:
                parts.append(f"{subject} == null")
            if kind is FactType.ENUM_LIST:
                if EMPTY_LIST in values:
                    parts.append(f"({subject} != null and len({subject}) == 0)")
                strings = [v for v in values if isinstance(v, str)]
                if strings:
                    wanted = ", ".join(_literal(v) for v in strings)
                    parts.append(f"({subject} != null and some({subject}, # in [{wanted}]))")
            else:
                answered = [v for v in values if v is not None]
                if answered:
                    listed = ", ".join(_literal(v) for v in answered)
                    parts.append(f"({subject} != null and {subject} in [{listed}])")
            return " or ".join(f"({p})" if " or " in p else p for p in parts)
        case Compare(op, k):
            return f"({subject} != null and {subject} {op} {_literal(k)})"
        case Range(lo, lo_closed, hi, hi_closed):
            low = ">=" if lo_closed else ">"
            high = "<=" if hi_closed else "<"
            return (
                f"({subject} != null and {subject} {low} {_literal(lo)} "
                f"and {subject} {high} {_literal(hi)})"
            )
        case Not(inner):
            return f"({subject} != null and not ({cell_expression(inner, subject, kind)}))"
        case AnyOf(tests):
            return " or ".join(f"({cell_expression(t, subject, kind)})" for t in tests)
    raise TypeError(node)  # pragma: no cover - exhaustive match


def _published(table: CompiledTable, output: str) -> str:
    """The zen expression for ``<table>.<output>`` as a chained table reads it."""
    rows = f"rows.{table.name}"
    column = f"map({rows}, #.{output})"
    if table.hit_policy is HitPolicy.COLLECT and table.aggregation is not None:
        match table.aggregation:
            case Aggregation.COUNT:
                return f"len({rows})"
            case Aggregation.SUM:
                return f"sum({column})"
        out = table.outputs[0]
        if out.type is OutputType.ENUM:
            order = list(out.values)
            if table.aggregation is Aggregation.MAX:
                order.reverse()
            ranked = ", ".join(_literal(v) for v in order)
            present = f"filter([{ranked}], # in {column})"
            return f"len({rows}) == 0 ? null : {present}[0]"
        fold = "min" if table.aggregation is Aggregation.MIN else "max"
        return f"len({rows}) == 0 ? null : {fold}({column})"
    if table.hit_policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER):
        return column
    return f"{rows}.{output}"


def _rules_in_export_order(table: CompiledTable) -> list[CompiledRule]:
    if table.hit_policy is HitPolicy.PRIORITY:
        first = table.outputs[0]
        rank = {value: i for i, value in enumerate(first.values)}
        return sorted(table.rules, key=lambda rule: rank[rule.outputs[first.name]])
    return list(table.rules)


def _subject(name: str, chained: set[str]) -> str:
    return f"facts.{name}" if name in chained else name


def export_jdm(ruleset: Ruleset) -> dict[str, Any]:
    """The ruleset as a JDM decision graph (a JSON-ready dict)."""
    chained = {f"{t.name}.{out.name}" for t in ruleset.tables for out in t.outputs}
    nodes: list[dict[str, Any]] = [
        {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}}
    ]
    x = 0
    for table in ruleset.tables:
        x += 280
        nodes.append(_table_node(table, chained, x))
        nodes.append(_facts_node(table, x))
    nodes.append(
        {
            "id": "response",
            "type": "outputNode",
            "name": "Response",
            "position": {"x": x + 280, "y": 0},
        }
    )
    edges = [
        {"id": f"edge:{i}", "type": "edge", "sourceId": a["id"], "targetId": b["id"]}
        for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))
    ]
    return {
        "contentType": CONTENT_TYPE,
        "name": ruleset.name,
        "version": ruleset.version,
        "digest": ruleset.digest,
        "nodes": nodes,
        "edges": edges,
    }


def _table_node(table: CompiledTable, chained: set[str], x: int) -> dict[str, Any]:
    """The ``decisionTableNode`` of one table, writing its rows to ``rows.<table>``."""
    inputs = [{"id": f"{table.name}:in:{spec.name}", "name": spec.name} for spec in table.inputs]
    outputs = [
        {"id": f"{table.name}:out:{out.name}", "name": out.name, "field": out.name}
        for out in table.outputs
    ]
    rules = []
    for rule in _rules_in_export_order(table):
        row: dict[str, Any] = {"_id": rule.id, "_description": rule.source}
        for spec in table.inputs:
            test = rule.tests.get(spec.name)
            subject = _subject(spec.name, chained)
            row[f"{table.name}:in:{spec.name}"] = (
                "" if test is None else cell_expression(test.node, subject, spec.type)
            )
        for out in table.outputs:
            row[f"{table.name}:out:{out.name}"] = _literal(rule.outputs[out.name])
        rules.append(row)
    collect = table.hit_policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER)
    return {
        "id": f"table:{table.name}",
        "type": "decisionTableNode",
        "name": table.name,
        "position": {"x": x, "y": 0},
        "content": {
            "hitPolicy": "collect" if collect else "first",
            "passThrough": True,
            "inputField": None,
            "outputPath": f"rows.{table.name}",
            "executionMode": "single",
            "inputs": inputs,
            "outputs": outputs,
            "rules": rules,
        },
    }


def _facts_node(table: CompiledTable, x: int) -> dict[str, Any]:
    """The ``expressionNode`` after a table: publishes ``facts.<table>.<output>``."""
    return {
        "id": f"facts:{table.name}",
        "type": "expressionNode",
        "name": f"{table.name} facts",
        "position": {"x": x, "y": 160},
        "content": {
            "passThrough": True,
            "inputField": None,
            "outputPath": None,
            "executionMode": "single",
            "expressions": [
                {
                    "id": f"facts:{table.name}.{out.name}",
                    "key": f"facts.{table.name}.{out.name}",
                    "value": _published(table, out.name),
                }
                for out in table.outputs
            ],
        },
    }


def nest(facts: dict[str, Any]) -> dict[str, Any]:
    """Flat dotted facts -> the nested JSON context zen reads (``None`` values dropped)."""
    context: dict[str, Any] = {}
    for path, value in facts.items():
        if value is None:
            continue
        *parents, leaf = path.split(".")
        node = context
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = list(value) if isinstance(value, tuple | set | frozenset) else value
    return context
