"""YAML files -> validated documents -> compiled tables, collecting every Finding.

Nothing here raises for bad data: each problem becomes a ``Finding`` naming the file and
(where there is one) the rule, so ``popcheck rules check`` can report all of them at once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from popcheck.engine.errors import Finding
from popcheck.engine.lines import BOOL_WORDS, Lines, plain_yaml_error, read_lines
from popcheck.engine.model import (
    Aggregation,
    AnyTest,
    CompiledRule,
    CompiledTable,
    FactSpec,
    FactType,
    HitPolicy,
    InputDef,
    Match,
    OutputDef,
    OutputType,
    UnaryTest,
)
from popcheck.engine.unary import UnaryTestError, compile_test


def read_yaml(directory: Path, rel: str) -> tuple[Any, bytes, list[Finding]]:
    """Read ``directory/rel``: (document, raw bytes, findings). YAML errors name the file
    and the line, in plain words."""
    doc, raw, findings, _lines = read_yaml_lines(directory, rel)
    return doc, raw, findings


def read_yaml_lines(directory: Path, rel: str) -> tuple[Any, bytes, list[Finding], Lines]:
    """``read_yaml``, with the file's ``Lines``; a key written twice is a finding."""
    try:
        raw = (directory / rel).read_bytes()
    except OSError as exc:
        problem = f"cannot read file: {exc.strerror or exc}"
        return None, b"", [Finding(rel, None, problem)], Lines()
    try:
        doc, lines = read_lines(raw)
    except yaml.YAMLError as exc:
        line, problem = plain_yaml_error(exc)
        return None, raw, [Finding(rel, None, problem, line)], Lines()
    findings = [
        Finding(
            rel,
            lines.id_at(path) if path[:1] == ("rules",) else None,
            f"key {path[-1]!r} is written twice (first on line {first}); "
            "YAML would keep only the second: remove one",
            second,
        )
        for path, first, second in lines.duplicates
    ]
    return doc, raw, findings, lines


def validate(
    doc: Any, schema: Mapping[str, Any], rel: str, lines: Lines | None = None
) -> list[Finding]:
    """Validate ``doc`` against a JSON Schema; one Finding per error, with its location."""
    validator = Draft202012Validator(schema)
    findings = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        path = list(error.path)
        rule_id = None
        if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
            rule = doc["rules"][path[1]]
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                rule_id = rule["id"]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        message = f"{where or 'document'}: {error.message}"
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            message += _key_hint(error.instance, error.schema)
        line = None if lines is None else lines.of(*path)
        findings.append(Finding(rel, rule_id, f"schema: {message}", line))
    return findings


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``name`` is close to one of ``known``, else ``""``."""
    close = difflib.get_close_matches(str(name), sorted(map(str, known)), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _key_hint(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    known = schema.get("properties", {})
    return "".join(did_you_mean(key, known) for key in instance if key not in known)


def chained_spec(table: Mapping[str, Any], output: Mapping[str, Any]) -> FactSpec | str:
    """The FactSpec of ``<table>.<output>`` as a chained input, or why it cannot be read."""
    policy = HitPolicy(table["hit_policy"])
    aggregation = table.get("aggregation")
    kind = OutputType(output["type"])
    values = tuple(output.get("values", ()))
    numeric = {OutputType.INT: FactType.INT, OutputType.NUMBER: FactType.NUMBER}
    if policy is HitPolicy.COLLECT and aggregation == Aggregation.COUNT:
        return FactSpec(FactType.INT, range=(0, len(table["rules"])), nullable=False)
    if policy is HitPolicy.COLLECT and aggregation in (Aggregation.SUM,):
        if kind in numeric:
            return FactSpec(numeric[kind], nullable=False)
        return f"SUM over a {kind} output cannot be read"
    if policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER) and aggregation is None:
        if kind is OutputType.ENUM:
            return FactSpec(FactType.ENUM_LIST, values=values, nullable=False)
        return f"a {policy} table's {kind} output is a list; only enum lists can be read"
    # UNIQUE, ANY, FIRST, PRIORITY, and COLLECT MIN/MAX: one value, or null when nothing hit.
    if kind is OutputType.ENUM:
        return FactSpec(FactType.ENUM, values=values)
    if kind is OutputType.BOOL:
        return FactSpec(FactType.BOOL)
    if kind in numeric:
        return FactSpec(numeric[kind])
    return f"a {kind} output cannot be read by another table"


def _output_fits(value: Any, spec: OutputDef) -> bool:
    match spec.type:
        case OutputType.ENUM:
            return isinstance(value, str) and value in spec.values
        case OutputType.STRING:
            return isinstance(value, str)
        case OutputType.BOOL:
            return isinstance(value, bool)
        case OutputType.INT:
            return isinstance(value, int) and not isinstance(value, bool)
        case OutputType.NUMBER:
            return (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            )
    return False  # pragma: no cover - exhaustive match


@dataclass
class _Ctx:
    rel: str
    findings: list[Finding]
    #: Every fact a table may read (for "did you mean").
    facts: Mapping[str, FactSpec] = field(default_factory=dict)
    #: Per rule index, the cells YAML read from a bare yes/no/on/off: (when|then, name) -> word.
    words: Mapping[int, Mapping[tuple[str, str], str]] = field(default_factory=dict)

    def add(self, rule_id: str | None, message: str) -> None:
        self.findings.append(Finding(self.rel, rule_id, message))


def _inputs(doc: Mapping[str, Any], facts: Mapping[str, FactSpec], ctx: _Ctx) -> list[InputDef]:
    inputs: list[InputDef] = []
    seen: set[str] = set()
    for raw in doc["inputs"]:
        name = raw["name"]
        if name in seen:
            ctx.add(None, f"input {name!r} is declared twice")
            continue
        seen.add(name)
        kind = FactType(raw["type"])
        fact = facts.get(name)
        if fact is None:
            hint = did_you_mean(name, facts)
            ctx.add(None, f"unknown input {name!r}: not a fact and not <table>.<output>{hint}")
            continue
        if fact.type is not kind:
            ctx.add(None, f"input {name!r} is declared {kind} but the fact is {fact.type}")
            continue
        values = tuple(raw.get("values", ())) or fact.values
        if raw.get("values") and fact.values and set(values) != set(fact.values):
            ctx.add(
                None,
                f"input {name!r} lists values {list(values)}, the fact has {list(fact.values)}",
            )
            continue
        if kind in (FactType.ENUM, FactType.ENUM_LIST) and not values:
            ctx.add(None, f"input {name!r} is an {kind} with no values")
            continue
        if kind not in (FactType.ENUM, FactType.ENUM_LIST) and raw.get("values"):
            ctx.add(None, f"input {name!r}: values are only for enum and enum_list inputs")
            continue
        span: tuple[float, float] | None = fact.range
        if "range" in raw:
            if kind not in (FactType.INT, FactType.NUMBER):
                ctx.add(None, f"input {name!r}: range is only for int and number inputs")
                continue
            lo, hi = raw["range"]
            if lo > hi:
                ctx.add(None, f"input {name!r}: empty range [{lo}..{hi}]")
                continue
            if fact.range is not None and not (lo <= fact.range[0] and fact.range[1] <= hi):
                flo, fhi = fact.range
                ctx.add(
                    None,
                    f"input {name!r}: range [{lo}..{hi}] does not cover the fact's "
                    f"range [{flo}..{fhi}]",
                )
                continue
            span = (lo, hi)
        inputs.append(InputDef(name, kind, values, span, fact.nullable))
    return inputs


def _outputs(
    doc: Mapping[str, Any], catalog: Mapping[str, Any] | None, ctx: _Ctx
) -> list[OutputDef]:
    outputs: list[OutputDef] = []
    seen: set[str] = set()
    for raw in doc["outputs"]:
        name = raw["name"]
        if name in seen:
            ctx.add(None, f"output {name!r} is declared twice")
            continue
        seen.add(name)
        kind = OutputType(raw["type"])
        values = tuple(raw.get("values", ()))
        if kind is OutputType.ENUM and not values:
            ctx.add(None, f"output {name!r} is an enum with no values")
            continue
        if kind is not OutputType.ENUM and values:
            ctx.add(None, f"output {name!r}: values are only for enum outputs")
            continue
        spec = OutputDef(
            name, kind, values, raw.get("catalog"), raw.get("default"), "default" in raw
        )
        if spec.has_default and spec.default is not None and not _output_fits(spec.default, spec):
            ctx.add(None, f"output {name!r}: default {spec.default!r} does not fit {kind}")
        if spec.catalog is not None and catalog is not None:
            section = catalog.get(spec.catalog)
            if not isinstance(section, Mapping):
                ctx.add(None, f"output {name!r}: catalog has no section {spec.catalog!r}")
            else:
                for value in values:
                    if value not in section:
                        ctx.add(
                            None,
                            f"output {name!r} value {value!r} has no text in catalog "
                            f"section {spec.catalog!r}",
                        )
        outputs.append(spec)
    return outputs


def _policy_checks(
    policy: HitPolicy, aggregation: Aggregation | None, outputs: list[OutputDef], ctx: _Ctx
) -> None:
    if aggregation is not None and policy is not HitPolicy.COLLECT:
        ctx.add(None, f"aggregation {aggregation} is only allowed with COLLECT, not {policy}")
    if aggregation in (Aggregation.SUM, Aggregation.MIN, Aggregation.MAX):
        if len(outputs) != 1:
            ctx.add(None, f"COLLECT {aggregation} folds exactly one output, found {len(outputs)}")
        elif aggregation is Aggregation.SUM and outputs[0].type not in (
            OutputType.INT,
            OutputType.NUMBER,
        ):
            ctx.add(None, f"COLLECT SUM needs an int or number output, not {outputs[0].type}")
        elif outputs[0].type not in (OutputType.INT, OutputType.NUMBER, OutputType.ENUM):
            ctx.add(None, f"COLLECT {aggregation} needs an int, number or enum output")
    if policy is HitPolicy.PRIORITY and outputs and outputs[0].type is not OutputType.ENUM:
        ctx.add(None, "PRIORITY ranks by the first output's values, which must be an enum")
    ranked = policy is HitPolicy.PRIORITY or aggregation in (
        Aggregation.SUM,
        Aggregation.MIN,
        Aggregation.MAX,
    )
    if ranked and outputs and outputs[0].has_default and outputs[0].default is None:
        # A null would have no rank and no sum: every rule must give this output a value.
        ctx.add(
            None, f"output {outputs[0].name!r} is ranked or folded, so it cannot default to null"
        )


def compile_table(
    rel: str,
    doc: Mapping[str, Any],
    facts: Mapping[str, FactSpec],
    constants: Mapping[str, int | float],
    catalog: Mapping[str, Any] | None,
    lines: Lines | None = None,
) -> tuple[CompiledTable | None, list[Finding]]:
    """Compile one schema-valid table document; ``None`` when it has findings. ``lines``
    (from ``read_yaml_lines``) lets bare YAML booleans in rule cells be refused."""
    words: dict[int, dict[tuple[str, str], str]] = {}
    for path, word in (lines.bool_words if lines is not None else {}).items():
        if len(path) == 4 and path[0] == "rules" and isinstance(path[1], int):
            words.setdefault(path[1], {})[(str(path[2]), str(path[3]))] = word
    ctx = _Ctx(rel, [], facts, words)
    policy = HitPolicy(doc["hit_policy"])
    aggregation = Aggregation(doc["aggregation"]) if doc.get("aggregation") else None
    inputs = _inputs(doc, facts, ctx)
    outputs = _outputs(doc, catalog, ctx)
    _policy_checks(policy, aggregation, outputs, ctx)
    declared_inputs = {raw["name"] for raw in doc["inputs"]}
    by_name = {spec.name: spec for spec in inputs}
    out_by_name = {spec.name: spec for spec in outputs}
    rules: list[CompiledRule] = []
    ids: set[str] = set()
    for index, raw in enumerate(doc["rules"]):
        rule = _compile_rule(
            raw,
            declared_inputs,
            by_name,
            out_by_name,
            constants,
            catalog,
            ctx,
            ctx.words.get(index, {}),
        )
        if raw["id"] in ids:
            ctx.add(raw["id"], "duplicate rule id")
        ids.add(raw["id"])
        if rule is not None:
            rules.append(rule)
    if ctx.findings:
        return None, ctx.findings
    table = CompiledTable(
        name=doc["table"],
        file=rel,
        description=doc.get("description", ""),
        hit_policy=policy,
        aggregation=aggregation,
        complete=bool(doc.get("complete", False)),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        rules=tuple(rules),
    )
    return table, []


def _bare_word(word: str, kind: FactType) -> str:
    """Why a bare ``yes`` (``no``, ``on``, ``off``) in a cell is refused, and what to write."""
    said = (
        f"YAML reads a bare {word} as {'true' if word.lower() in ('yes', 'y', 'on') else 'false'}"
    )
    if kind is FactType.BOOL:
        return f"{said}; write true for yes or false for no"
    if kind in (FactType.ENUM, FactType.ENUM_LIST):
        return f"""{said}; for the value {word}, write '"{word}"' (quotes inside quotes)"""
    return f"{said}; a {kind} input is tested with numbers"


def _yes_no_hint(cell: Any, kind: FactType) -> str | None:
    """For a yes/no input tested with a word (``"yes"``, ``'"no"'``), the test to write."""
    word = str(cell).strip().strip("\"'").lower()
    if kind is FactType.BOOL and word in BOOL_WORDS:
        value = "true" if word in ("yes", "y", "on") else "false"
        return f"{cell!r} is not a test of a yes/no input: write {value}"
    return None


def _then(
    raw: Mapping[str, Any],
    outputs: Mapping[str, OutputDef],
    catalog: Mapping[str, Any] | None,
    ctx: _Ctx,
    words: Mapping[tuple[str, str], str],
) -> dict[str, Any]:
    """The values a rule gives its outputs (defaults filled in); problems go to ``ctx``."""
    rule_id: str = raw["id"]
    values: dict[str, Any] = {}
    then = raw["then"]
    for name in then:
        if name not in outputs:
            hint = did_you_mean(name, outputs)
            ctx.add(rule_id, f"sets {name!r}, which is not an output of this table{hint}")
        elif ("then", name) in words:
            word = words["then", name]
            ctx.add(
                rule_id,
                f"output {name!r}: YAML reads a bare {word} as {str(then[name]).lower()}; "
                f'for the word, put it in quotes: "{word}"; for true or false, write true or false',
            )
    for name, out_spec in outputs.items():
        if name not in then:
            if not out_spec.has_default:
                ctx.add(rule_id, f"does not set output {name!r}, which has no default")
            values[name] = out_spec.default
            continue
        value = then[name]
        if value is None or not _output_fits(value, out_spec):
            allowed = f" (one of {list(out_spec.values)})" if out_spec.values else ""
            ctx.add(rule_id, f"output {name!r}: {value!r} does not fit {out_spec.type}{allowed}")
            continue
        if (
            out_spec.catalog is not None
            and out_spec.type is OutputType.STRING
            and catalog is not None
        ):
            section = catalog.get(out_spec.catalog)
            if isinstance(section, Mapping) and value not in section:
                hint = did_you_mean(value, section)
                message = f"output {name!r}: {value!r} has no text in {out_spec.catalog!r}{hint}"
                ctx.add(rule_id, message)
        values[name] = value
    return values


def _compile_rule(
    raw: Mapping[str, Any],
    declared_inputs: set[str],
    inputs: Mapping[str, InputDef],
    outputs: Mapping[str, OutputDef],
    constants: Mapping[str, int | float],
    catalog: Mapping[str, Any] | None,
    ctx: _Ctx,
    words: Mapping[tuple[str, str], str],
) -> CompiledRule | None:
    rule_id: str = raw["id"]
    before = len(ctx.findings)
    tests: dict[str, UnaryTest] = {}
    for name, cell in (raw.get("when") or {}).items():
        if name not in declared_inputs:
            hint = did_you_mean(name, declared_inputs) or did_you_mean(name, ctx.facts)
            ctx.add(
                rule_id,
                f"tests {name!r}, which is not an input of this table{hint}; "
                "a rule may test only the inputs listed under the table's inputs",
            )
            continue
        spec = inputs.get(name)
        if spec is None:
            continue  # the input itself is broken and already reported
        if ("when", name) in words:
            ctx.add(rule_id, f"input {name!r}: {_bare_word(words['when', name], spec.type)}")
            continue
        try:
            test = compile_test(cell, spec, constants)
        except UnaryTestError as exc:
            ctx.add(rule_id, f"input {name!r}: {_yes_no_hint(cell, spec.type) or exc}")
            continue
        if not isinstance(test.node, AnyTest):
            tests[name] = test
    values = _then(raw, outputs, catalog, ctx, words)
    if len(ctx.findings) > before:
        return None
    order = [name for name in inputs if name in tests]
    ordered = {name: tests[name] for name in order}
    frozen = MappingProxyType(values)
    return CompiledRule(
        id=rule_id,
        source=raw["source"],
        note=raw.get("note"),
        tests=MappingProxyType(ordered),
        outputs=frozen,
        match=Match(rule_id, frozen, tuple(order)),
    )
