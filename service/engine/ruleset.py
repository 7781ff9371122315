"""Load a rules directory: ruleset.yaml, the tables it lists, the catalog, constants.

``check_ruleset`` returns every finding and never raises for bad data; ``load_ruleset``
raises ``RuleError`` when there is any finding, otherwise returns the compiled ``Ruleset``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from popcheck.engine.analysis import analyse_table
from popcheck.engine.errors import Finding, RuleError
from popcheck.engine.lines import Lines, locate
from popcheck.engine.loader import chained_spec, compile_table, read_yaml_lines, validate
from popcheck.engine.model import CompiledTable, FactSpec, Ruleset
from popcheck.engine.schema import CATALOG_SCHEMA, RULESET_SCHEMA, TABLE_SCHEMA

RULESET_FILE = "ruleset.yaml"


def ruleset_digest(parts: list[tuple[str, bytes]]) -> str:
    """``sha256:`` over each file's relative path, a NUL byte and its bytes, in order."""
    digest = hashlib.sha256()
    for rel, raw in parts:
        digest.update(rel.encode("utf-8"))
        digest.update(b"\0")
        digest.update(raw)
    return f"sha256:{digest.hexdigest()}"


def _order(
    tables: list[CompiledTable], file_of: Mapping[str, str]
) -> tuple[list[CompiledTable], list[Finding]]:
    """Dependency order (stable: ruleset.yaml order among independent tables), or cycles."""
    by_name = {t.name: t for t in tables}
    deps = {
        t.name: {spec.name.split(".", 1)[0] for spec in t.inputs if "." in spec.name}
        & (by_name.keys() - {t.name})
        for t in tables
    }
    findings: list[Finding] = []
    for t in tables:
        if any(spec.name.split(".", 1)[0] == t.name for spec in t.inputs):
            findings.append(Finding(t.file, None, f"dependency cycle: {t.name} -> {t.name}"))
    done: list[CompiledTable] = []
    placed: set[str] = set()
    remaining = [t.name for t in tables]
    while remaining:
        ready = [name for name in remaining if deps[name] <= placed]
        if not ready:
            cycle = _find_cycle(remaining, deps)
            findings.append(
                Finding(file_of[cycle[0]], None, "dependency cycle: " + " -> ".join(cycle))
            )
            return done, findings
        for name in ready:
            done.append(by_name[name])
            placed.add(name)
        remaining = [name for name in remaining if name not in placed]
    return done, findings


def _find_cycle(names: list[str], deps: Mapping[str, set[str]]) -> list[str]:
    """One cycle among ``names`` (each of which waits on another), closed: a -> b -> a."""
    path: list[str] = []
    current = names[0]
    while current not in path:
        path.append(current)
        current = sorted(dep for dep in deps[current] if dep in names)[0]
    return path[path.index(current) :] + [current]


def _read_tables(
    directory: Path,
    rels: list[str],
    parts: list[tuple[str, bytes]],
    findings: list[Finding],
    lines: dict[str, Lines],
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str], set[str]]:
    """The schema-valid table documents, each with its file, the file of each table name,
    and the names of the tables that did not load (by file name and ``table:``); appends
    each file's bytes to ``parts``, its lines to ``lines`` and every problem to
    ``findings``."""
    table_docs: list[tuple[str, dict[str, Any]]] = []
    file_of: dict[str, str] = {}
    broken: set[str] = set()
    for rel in rels:
        table_doc, table_raw, problems, lines[rel] = read_yaml_lines(directory, rel)
        parts.append((rel, table_raw))
        if not problems:
            problems = validate(table_doc, TABLE_SCHEMA, rel, lines[rel])
        if problems:
            findings += problems
            broken.add(Path(rel).stem)
            if isinstance(table_doc, Mapping):
                broken.add(str(table_doc.get("table")))
            continue
        name = table_doc["table"]
        if name in file_of:
            findings.append(
                Finding(rel, None, f"table {name!r} is also defined in {file_of[name]}")
            )
            continue
        file_of[name] = rel
        table_doc.setdefault("rules", [])
        table_docs.append((rel, table_doc))
    return table_docs, file_of, broken


def _chained_facts(
    table_docs: list[tuple[str, dict[str, Any]]],
    facts: Mapping[str, FactSpec],
    findings: list[Finding],
) -> tuple[dict[str, FactSpec], dict[str, str]]:
    """Every fact a table may read (each ``<table>.<output>`` is one), and why each output
    that cannot be read cannot; appends every problem to ``findings``."""
    known: dict[str, FactSpec] = dict(facts)
    unreadable: dict[str, str] = {}
    for rel, table_doc in table_docs:
        for output in table_doc["outputs"]:
            fact = f"{table_doc['table']}.{output['name']}"
            if fact in facts:
                findings.append(Finding(rel, None, f"output {fact!r} shadows an application fact"))
                continue
            spec = chained_spec(table_doc, output)
            if isinstance(spec, str):
                unreadable[fact] = spec
            else:
                known[fact] = spec
    return known, unreadable


def build_ruleset(
    directory: Path, facts: Mapping[str, FactSpec]
) -> tuple[Ruleset | None, list[Finding]]:
    """The compiled ruleset and no findings, or ``None`` and every finding. Never raises for
    bad data: ``check_ruleset`` and ``load_ruleset`` are the two halves of this."""
    return _build(Path(directory), facts)


def _build(directory: Path, facts: Mapping[str, FactSpec]) -> tuple[Ruleset | None, list[Finding]]:
    lines: dict[str, Lines] = {}
    ruleset, findings = _compile(directory, facts, lines)
    if findings:
        return None, locate(findings, directory, lines)
    return ruleset, []


def _knock_on(finding: Finding, broken: set[str]) -> bool:
    """A finding that only repeats that a table which did not load is missing."""
    match = re.match(r"unknown input '([a-z0-9_]+)\.", finding.message)
    return match is not None and match.group(1) in broken


def _compile(
    directory: Path, facts: Mapping[str, FactSpec], lines: dict[str, Lines]
) -> tuple[Ruleset | None, list[Finding]]:
    findings: list[Finding] = []
    doc, raw, problems, lines[RULESET_FILE] = read_yaml_lines(directory, RULESET_FILE)
    findings += problems
    if problems:
        return None, findings
    problems = validate(doc, RULESET_SCHEMA, RULESET_FILE, lines[RULESET_FILE])
    if problems:
        return None, findings + problems
    parts: list[tuple[str, bytes]] = [(RULESET_FILE, raw)]
    constants: dict[str, int | float] = dict(doc.get("constants") or {})

    table_docs, file_of, broken = _read_tables(directory, doc["tables"], parts, findings, lines)

    catalog_rel = doc["catalog"]
    catalog_doc, catalog_raw, problems, lines[catalog_rel] = read_yaml_lines(directory, catalog_rel)
    parts.append((catalog_rel, catalog_raw))
    if not problems:
        problems = validate(catalog_doc, CATALOG_SCHEMA, catalog_rel, lines[catalog_rel])
    findings += problems
    catalog: Mapping[str, Any] | None = None if problems else catalog_doc

    known, unreadable = _chained_facts(table_docs, facts, findings)

    tables: list[CompiledTable] = []
    seen_ids: dict[str, str] = {}
    for rel, table_doc in table_docs:
        for raw_input in table_doc["inputs"]:
            if raw_input["name"] in unreadable:
                message = f"input {raw_input['name']!r}: {unreadable[raw_input['name']]}"
                findings.append(Finding(rel, None, message))
        for rule in table_doc["rules"]:
            rule_id = rule["id"]
            if rule_id in seen_ids and seen_ids[rule_id] != rel:
                message = f"duplicate rule id (also in {seen_ids[rule_id]})"
                findings.append(Finding(rel, rule_id, message))
            seen_ids.setdefault(rule_id, rel)
        table, problems = compile_table(rel, table_doc, known, constants, catalog, lines[rel])
        findings += [p for p in problems if not _knock_on(p, broken)]
        if table is not None:
            tables.append(table)

    ordered, problems = _order(tables, file_of)
    findings += problems
    for table in ordered:
        findings += analyse_table(table)
    if findings:
        return None, findings

    if catalog is None:  # unreachable: a catalog problem is a finding, handled above
        return None, [Finding(catalog_rel, None, "the catalog could not be loaded")]
    ruleset = Ruleset(
        name=doc["name"],
        version=doc["version"],
        digest=ruleset_digest(parts),
        catalog=MappingProxyType(dict(catalog)),
        constants=MappingProxyType(constants),
        tables=tuple(ordered),
        directory=str(directory),
    )
    return ruleset, []


def check_ruleset(directory: Path, facts: Mapping[str, FactSpec]) -> list[Finding]:
    """Every finding in the rules directory (empty when it is sound). Never raises for bad data."""
    return _build(Path(directory), facts)[1]


def load_ruleset(directory: Path, facts: Mapping[str, FactSpec]) -> Ruleset:
    """Load, check and compile the rules directory. Raises ``RuleError`` on any finding."""
    ruleset, findings = _build(Path(directory), facts)
    if findings or ruleset is None:
        raise RuleError(findings)
    return ruleset
