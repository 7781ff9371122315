"""The generated function and the interpreter against a naive interpreter, and the static
checker against brute force.

Tables are generated as structured cells (``spec``) rendered to text for the engine; the
naive interpreter reads the structure, so a parser, compiler, index or hit-policy bug in
the engine shows up as a disagreement.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popcheck.engine import EvaluationError, Evaluator, FactSpec, FactType, Ruleset, evaluate
from popcheck.engine.analysis import analyse_table
from popcheck.engine.loader import compile_table
from popcheck.engine.plan import INDEX_MIN_RULES
from tests.support.engine_rules import facts_strategy

FACTS: Mapping[str, FactSpec] = {
    "n": FactSpec(FactType.INT, range=(0, 6)),
    "x": FactSpec(FactType.NUMBER, range=(0, 4)),
    "b": FactSpec(FactType.BOOL),
    "e": FactSpec(FactType.ENUM, values=("p", "q", "r")),
    "l": FactSpec(FactType.ENUM_LIST, values=("u", "v", "w")),
}
LEVELS = ("hi", "mid", "lo")


def naive_match(spec: tuple[Any, ...], v: Any) -> bool:
    """Ten lines of semantics, straight from docs/rules.md."""
    kind = spec[0]
    if kind == "any":
        return True
    if v is None:
        return kind in ("in", "has") and spec[-1]  # only a list that includes null
    if kind == "not":
        return not naive_match(spec[1], v)
    if kind == "in":
        return v in spec[1]
    if kind == "has":
        return bool(set(v) & spec[1]) or (spec[2] and not v)
    if kind == "cmp":
        return {"<": v < spec[2], "<=": v <= spec[2], ">": v > spec[2], ">=": v >= spec[2]}[spec[1]]
    lo, lc, hi, hc = spec[1:]
    return (lo < v or (lc and lo == v)) and (v < hi or (hc and v == hi))


def _render(spec: tuple[Any, ...], kind: FactType) -> str:
    def lit(v: Any) -> str:
        return (
            "true"
            if v is True
            else "false"
            if v is False
            else f'"{v}"'
            if isinstance(v, str)
            else str(v)
        )

    match spec:
        case ("any",):
            return "-"
        case ("not", inner):
            return f"not({_render(inner, kind)})"
        case ("in", values, null):
            return ", ".join([lit(v) for v in sorted(values, key=str)] + (["null"] if null else []))
        case ("has", values, empty, null):
            items = [lit(v) for v in sorted(values)] + (["[]"] if empty else [])
            return ", ".join(items + (["null"] if null else []))
        case ("cmp", op, k):
            return f"{op} {k}"
        case ("range", lo, lc, hi, hc):
            return f"{'[' if lc else '('}{lo}..{hi}{']' if hc else ')'}"
    raise AssertionError(spec)


def cells(kind: FactType) -> st.SearchStrategy[tuple[Any, ...]]:
    """Structured cells valid for ``kind`` (never empty lists of literals)."""
    nulls = st.booleans()
    match kind:
        case FactType.BOOL:
            positive = st.tuples(
                st.just("in"), st.sets(st.booleans(), min_size=1).map(frozenset), nulls
            )
        case FactType.ENUM:
            positive = st.tuples(
                st.just("in"), st.sets(st.sampled_from("pqr"), min_size=1).map(frozenset), nulls
            )
        case FactType.ENUM_LIST:
            positive = st.tuples(
                st.just("has"),
                st.sets(st.sampled_from("uvw"), min_size=1).map(frozenset),
                st.booleans(),
                nulls,
            )
        case _:
            top = 6 if kind is FactType.INT else 4
            numbers = (
                st.integers(0, top)
                if kind is FactType.INT
                else st.integers(0, top * 2).map(lambda i: i / 2)
            )
            positive = st.one_of(
                st.tuples(st.just("in"), st.sets(numbers, min_size=1).map(frozenset), nulls),
                st.tuples(st.just("cmp"), st.sampled_from(["<", "<=", ">", ">="]), numbers),
                st.tuples(numbers, numbers, st.booleans(), st.booleans()).map(
                    lambda t: ("range", min(t[0], t[1]), t[2], max(t[0], t[1]), t[3])
                ),
            )
    nots = positive.filter(lambda s: s[0] != "in" or not s[-1]).map(lambda s: ("not", s))
    null = (
        ("has", frozenset(), False, True)
        if kind is FactType.ENUM_LIST
        else ("in", frozenset(), True)
    )
    return st.one_of(st.just(("any",)), st.just(null), positive, nots)


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, tuple[Any, ...]]]]:
    names = draw(st.lists(st.sampled_from(sorted(FACTS)), min_size=1, max_size=4, unique=True))
    policy = draw(st.sampled_from(["UNIQUE", "ANY", "FIRST", "PRIORITY", "COLLECT", "RULE ORDER"]))
    aggregation = (
        draw(st.sampled_from([None, "COUNT", "SUM", "MIN", "MAX"])) if policy == "COLLECT" else None
    )
    numeric_out = aggregation in ("SUM", "MIN", "MAX") and draw(st.booleans())
    output = (
        {"name": "o", "type": "int"}
        if numeric_out
        else {"name": "o", "type": "enum", "values": list(LEVELS)}
    )
    if aggregation == "SUM":
        output = {"name": "o", "type": "int"}
    specs: dict[str, dict[str, tuple[Any, ...]]] = {}
    rules = []
    for i in range(draw(st.integers(0, 8))):
        when = {name: draw(cells(FACTS[name].type)) for name in names}
        specs[f"r{i}"] = when
        value = (
            draw(st.integers(0, 3)) if output["type"] == "int" else draw(st.sampled_from(LEVELS))
        )
        rules.append(
            {
                "id": f"r{i}",
                "when": {n: _render(s, FACTS[n].type) for n, s in when.items()},
                "then": {"o": value},
                "source": "generated",
            }
        )
    doc = {
        "table": "t",
        "hit_policy": policy,
        "aggregation": aggregation,
        "inputs": [{"name": n, "type": str(FACTS[n].type)} for n in names],
        "outputs": [output],
        "rules": rules,
    }
    return doc, specs


def _ruleset(doc: dict[str, Any]) -> Ruleset:
    """Compile without the static checker, so overlapping UNIQUE/ANY tables reach run time."""
    table, findings = compile_table("t.yaml", doc, FACTS, {}, {})
    assert table is not None, findings
    return Ruleset("gen", "0.0.0", "sha256:-", MappingProxyType({}), MappingProxyType({}), (table,))


def _big(
    doc: dict[str, Any], specs: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The table with its rules repeated (``r0``.. then ``r0x1``..) up to the size that is
    indexed (``plan.INDEX_MIN_RULES``), so the generated function branches on a bool or enum
    column wherever that saves tests; the naive interpreter reads the copies alike."""
    if not doc["rules"]:
        return doc, specs
    rules = list(doc["rules"])
    big_specs = dict(specs)
    copy = 1
    while len(rules) < INDEX_MIN_RULES:
        for rule in doc["rules"]:
            rules.append({**rule, "id": f"{rule['id']}x{copy}"})
            big_specs[f"{rule['id']}x{copy}"] = specs[rule["id"]]
        copy += 1
    return {**doc, "rules": rules}, big_specs


def naive_table(
    doc: dict[str, Any], specs: dict[str, dict[str, Any]], facts: Mapping[str, Any]
) -> tuple[list[str], Any]:
    """Matched rule ids and the value, by the book."""
    rules = {r["id"]: r for r in doc["rules"]}
    matched = [
        rid
        for rid, when in specs.items()
        if all(naive_match(s, facts.get(n)) for n, s in when.items())
    ]
    outs = [rules[rid]["then"] for rid in matched]
    values = [o["o"] for o in outs]
    match doc["hit_policy"], doc["aggregation"]:
        case "UNIQUE", _:
            if len(matched) > 1:
                raise EvaluationError("two")
            return matched, outs[0] if outs else None
        case "ANY", _:
            if any(o != outs[0] for o in outs):
                raise EvaluationError("disagree")
            return matched, outs[0] if outs else None
        case "FIRST", _:
            return matched[:1], outs[0] if outs else None
        case "PRIORITY", _:
            best = min(outs, key=lambda o: LEVELS.index(o["o"])) if outs else None
            return matched, best
        case _, "COUNT":
            return matched, len(matched)
        case _, "SUM":
            return matched, sum(values)
        case _, "MIN" | "MAX" as agg:
            if not values:
                return matched, None
            key = (lambda v: v) if doc["outputs"][0]["type"] == "int" else LEVELS.index
            return matched, (min if agg == "MIN" else max)(values, key=key)
    return matched, outs


def naive_partial(
    doc: dict[str, Any], specs: dict[str, dict[str, Any]], facts: Mapping[str, Any]
) -> list[tuple[str, tuple[str, ...]]]:
    """Partial matches by the book: every answered test holds, some unanswered one fails.

    FIRST looks no further than its first match; missing inputs are listed in table order."""
    order = [spec["name"] for spec in doc["inputs"]]
    partial: list[tuple[str, tuple[str, ...]]] = []
    for rid, when in specs.items():
        failed = [n for n, s in when.items() if not naive_match(s, facts.get(n))]
        if not failed:
            if doc["hit_policy"] == "FIRST":
                break
            continue
        if all(facts.get(n) is None for n in failed):
            partial.append((rid, tuple(sorted(failed, key=order.index))))
    return partial


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.lists(facts_strategy(FACTS), min_size=1, max_size=8))
def test_compiled_evaluator_agrees_with_naive_interpreter(
    table: tuple[dict[str, Any], dict[str, Any]], samples: list[dict[str, Any]]
) -> None:
    """The generated function (with partial matches for every table, for none, and for the
    table by name) and the interpreter (``explain``, and ``evaluate``), on the table as
    drawn and on its big, indexed copy."""
    for doc, specs in (table, _big(*table)):
        ruleset = _ruleset(doc)
        runs = [Evaluator(ruleset).run, Evaluator(ruleset, partial_for=("t",)).run]
        matches_only = Evaluator(ruleset, partial_for=()).run
        explain = Evaluator(ruleset).explain
        for facts in samples:
            try:
                expected: Any = naive_table(doc, specs, facts)
            except EvaluationError:
                for call in [*runs, matches_only, explain, partial(evaluate, ruleset)]:
                    with pytest.raises(EvaluationError):
                        call(facts)
                continue
            partials = naive_partial(doc, specs, facts)
            results = [run(facts)["t"] for run in runs] + [
                explain(facts).results["t"],
                evaluate(ruleset, facts).results["t"],
            ]
            for result in results:
                assert ([m.rule_id for m in result.matches], result.value) == expected
                assert [(p.rule_id, p.missing) for p in result.partial] == partials
            result = matches_only(facts)["t"]
            assert ([m.rule_id for m in result.matches], result.value) == expected
            assert result.partial == ()


def _domain(name: str) -> list[Any]:
    spec = FACTS[name]
    match spec.type:
        case FactType.BOOL:
            points: list[Any] = [True, False]
        case FactType.INT:
            points = list(range(0, 7))
        case FactType.NUMBER:
            points = [i / 4 for i in range(0, 17)]  # every literal, and every point between
        case FactType.ENUM:
            points = list(spec.values)
        case _:
            points = [list(c) for k in range(4) for c in itertools.combinations(spec.values, k)]
    return [None, *points]


@settings(max_examples=150, deadline=None)
@given(tables())
def test_static_checker_agrees_with_brute_force(
    table: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Overlaps and gaps, decided exactly, match an exhaustive search of the domain.

    Number columns use quarter steps: every literal is a half step, so any non-empty
    intersection or gap of half-step intervals contains a quarter-step point.
    """
    doc, specs = table
    doc["complete"] = True
    ruleset = _ruleset(doc)
    compiled = ruleset.tables[0]
    findings = [f.message for f in analyse_table(compiled)]
    names = [spec["name"] for spec in doc["inputs"]]
    points = [
        dict(zip(names, p, strict=True)) for p in itertools.product(*(_domain(n) for n in names))
    ]
    hits = {
        rid: {
            i
            for i, p in enumerate(points)
            if all(naive_match(s, p.get(n)) for n, s in when.items())
        }
        for rid, when in specs.items()
    }
    gap = any(all(i not in h for h in hits.values()) for i in range(len(points)))
    assert gap == any("marked complete" in m for m in findings), findings
    for rid, h in hits.items():
        assert (not h) == any(
            f.rule_id == rid and "can never match" in f.message for f in analyse_table(compiled)
        )
    if doc["hit_policy"] in ("UNIQUE", "ANY"):
        outputs = {r["id"]: r["then"] for r in doc["rules"]}
        expected = {
            (a, b)
            for a, b in itertools.combinations(specs, 2)
            if hits[a] & hits[b] and (doc["hit_policy"] == "UNIQUE" or outputs[a] != outputs[b])
        }
        reported = {
            (m.split("rule ")[1].split(" ")[0], f.rule_id)
            for f in analyse_table(compiled)
            for m in [f.message]
            if "overlaps" in m
        }
        assert reported == expected
    if doc["hit_policy"] == "FIRST":
        ids = list(specs)
        shadowed = {
            rid
            for i, rid in enumerate(ids)
            if hits[rid] and hits[rid] <= set().union(*(hits[e] for e in ids[:i]))
        }
        reported_shadow = {f.rule_id for f in analyse_table(compiled) if "shadowed" in f.message}
        assert reported_shadow == shadowed
