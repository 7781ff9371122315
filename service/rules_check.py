"""The one check of a rules directory: what the service refuses at start-up, and the rest.

``load_checked`` is the only road from a rules directory to a ruleset the service may use.
``create_app`` (through ``popcheck.assessment.load_assessor``) and ``popcheck rules check``
and ``rules test`` all call it, so the author's checker cannot say "ok" about rules the
service would refuse. It runs, in order:

1. the engine's checks (YAML, schemas, inputs, cells, outputs, overlaps, gaps, cycles);
2. the assessment's checks of the catalog and the rules (``assessment.checks``);
3. the hazard log beside the rules (``hazards.yaml``), when there is one;
3b. the sources (``sources.yaml``), when there is one: every rule's ``source`` is a key of
   it, and each citation has a title, a publisher or authors, and a year;
4. the golden-case files, when a path to them is given (the service itself passes none).

Every problem is a ``Finding``; nothing here raises for bad data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from popcheck.engine import FactSpec, Finding, Ruleset, build_ruleset
from popcheck.engine.lines import locate
from popcheck.engine.loader import did_you_mean, read_yaml

__all__ = [
    "SOURCES_FILE",
    "case_findings",
    "check_rules",
    "citation",
    "load_checked",
    "load_sources",
]


def _hazards(ruleset: Ruleset, directory: Path) -> list[Finding]:
    """The hazard log, when there is one (a ruleset for the engine alone keeps none)."""
    from popcheck.hazards import HAZARDS_FILE, hazard_findings, load_hazards

    if not (directory / HAZARDS_FILE).is_file():
        return []
    hazards, shape = load_hazards(directory)
    rule_ids = (rule.id for table in ruleset.tables for rule in table.rules)
    return shape + hazard_findings(hazards, rule_ids)


SOURCES_FILE = "sources.yaml"
_SOURCE_KEYS = frozenset({"title", "authors", "publisher", "year", "link", "confirm", "note"})


def load_sources(directory: Path) -> tuple[dict[str, dict[str, object]], list[Finding]]:
    """The citations in ``directory/sources.yaml`` by key, and what is wrong with them."""
    doc, _raw, findings = read_yaml(Path(directory), SOURCES_FILE)
    if findings:
        return {}, findings
    if not isinstance(doc, dict):
        return {}, [Finding(SOURCES_FILE, None, "must map each source key to its citation")]
    sources: dict[str, dict[str, object]] = {}
    for key, entry in doc.items():
        key = str(key)
        if not isinstance(entry, dict):
            findings.append(Finding(SOURCES_FILE, key, "needs title, publisher or authors, year"))
            continue
        for extra in sorted(set(map(str, entry)) - _SOURCE_KEYS):
            hint = did_you_mean(extra, _SOURCE_KEYS)
            findings.append(Finding(SOURCES_FILE, key, f"unknown key {extra!r}{hint}"))
        if not isinstance(entry.get("title"), str) or not entry["title"].strip():
            findings.append(Finding(SOURCES_FILE, key, "needs a title"))
        if not (entry.get("publisher") or entry.get("authors")):
            findings.append(Finding(SOURCES_FILE, key, "needs a publisher or authors"))
        if type(entry.get("year")) is not int:
            findings.append(Finding(SOURCES_FILE, key, "needs a year (a whole number)"))
        sources[key] = dict(entry)
    return sources, findings


def citation(entry: Mapping[str, object]) -> str:
    """One source as a reader cites it: title, authors, publisher, year and link."""
    parts = [str(entry["title"]).strip().rstrip(".")]
    parts += [
        str(entry[key]).strip().rstrip(".") for key in ("authors", "publisher") if entry.get(key)
    ]
    text = ". ".join(parts) + f", {entry['year']}."
    return f"{text} {entry['link']}" if entry.get("link") else text


def _sources(ruleset: Ruleset, directory: Path) -> list[Finding]:
    """Every rule's ``source`` is a key of ``sources.yaml`` (when the rules keep one)."""
    if not (directory / SOURCES_FILE).is_file():
        return []
    sources, findings = load_sources(directory)
    for table in ruleset.tables:
        for rule in table.rules:
            if rule.source not in sources:
                hint = did_you_mean(rule.source, sources)
                message = (
                    f"source {rule.source!r} is not in {SOURCES_FILE}{hint}; "
                    f"add its citation there first"
                )
                findings.append(Finding(table.file, rule.id, message))
    return findings


def case_findings(cases: Path) -> list[Finding]:
    """Every malformed golden case in ``cases`` (a file or a directory), each once."""
    from popcheck.golden import case_problems

    cases = Path(cases)
    found = [
        Finding(file, name or (f"case {number}" if number else None), message)
        for file, name, number, message in case_problems(cases)
    ]
    return locate(found, cases if cases.is_dir() else cases.parent)


def load_checked(
    directory: Path,
    *,
    facts: Mapping[str, FactSpec] | None = None,
    cases: Path | None = None,
) -> tuple[Ruleset | None, list[Finding]]:
    """The ruleset in ``directory`` and no findings, or ``None`` and every finding.

    ``facts`` is for rulesets of the engine alone (tests of the engine): given, only the
    engine's checks and the hazard log run. By default the service's own facts are used and
    the assessment's checks run too.
    """
    directory = Path(directory)
    engine_only = facts is not None
    if facts is None:
        from popcheck.facts import FACTS

        facts = FACTS
    ruleset, findings = build_ruleset(directory, facts)
    if ruleset is not None:
        if not engine_only:
            from popcheck.assessment.checks import ruleset_findings

            findings += ruleset_findings(ruleset)
        findings += _hazards(ruleset, directory)
        findings += _sources(ruleset, directory)
        findings = locate(findings, directory)
    if cases is not None:
        findings += case_findings(cases)
    return (None if findings else ruleset), findings


def check_rules(
    directory: Path,
    *,
    facts: Mapping[str, FactSpec] | None = None,
    cases: Path | None = None,
) -> list[Finding]:
    """Every finding in the rules directory (and the golden cases, when given)."""
    return load_checked(directory, facts=facts, cases=cases)[1]


def inputs_reference(directory: Path) -> list[dict[str, object]]:
    """Every input a table may test, from the same declarations the checker uses: the
    request fields and derived facts of ``popcheck.facts.FACTS`` and each readable
    ``<table>.<output>`` of the rules in ``directory``. Each entry: ``name``, ``kind``
    (request, derived or table), ``type``, ``values`` or ``range``, ``question`` (the
    catalog's question text, for a request field) and ``from`` (what a derived fact or a
    table output is made of)."""
    from popcheck.engine.loader import chained_spec
    from popcheck.facts import DERIVED_SOURCES, FACTS, REQUEST_FIELDS

    doc, _raw, _findings = read_yaml(Path(directory), "ruleset.yaml")
    catalog: dict[str, object] = {}
    tables: list[dict[str, Any]] = []
    if isinstance(doc, dict):
        catalog_doc = read_yaml(Path(directory), str(doc.get("catalog", "catalog.yaml")))[0]
        catalog = catalog_doc if isinstance(catalog_doc, dict) else {}
        for rel in doc.get("tables") or []:
            table_doc = read_yaml(Path(directory), str(rel))[0]
            if isinstance(table_doc, dict):
                tables.append(table_doc)
    questions = catalog.get("questions")
    questions = questions if isinstance(questions, dict) else {}

    def question(name: str) -> str | None:
        entry = questions.get(name)
        text = entry.get("text") if isinstance(entry, dict) else entry
        return " ".join(str(text).split()) if text else None

    def entry(name: str, kind: str, spec: FactSpec, **extra: object) -> dict[str, object]:
        found: dict[str, object] = {"name": name, "kind": kind, "type": str(spec.type)}
        if spec.values:
            found["values"] = list(spec.values)
        if spec.range is not None:
            found["range"] = [spec.range[0], spec.range[1]]
        return found | {k: v for k, v in extra.items() if v is not None}

    found = [
        entry(name, "request", FACTS[name], question=question(name)) for name in REQUEST_FIELDS
    ]
    found += [
        entry(name, "derived", FACTS[name], **{"from": list(DERIVED_SOURCES.get(name, ()))})
        for name in FACTS
        if name not in REQUEST_FIELDS
    ]
    for table in tables:
        for output in table.get("outputs") or []:
            try:
                spec = chained_spec(table, output)
            except (KeyError, ValueError, TypeError):
                continue
            if not isinstance(spec, str):
                name = f"{table['table']}.{output['name']}"
                found.append(entry(name, "table", spec, **{"from": f"table {table['table']}"}))
    return found
