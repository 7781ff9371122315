"""Loading a rules directory: digest, describe, and every load-time finding (planted faults)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from popcheck.engine import Finding, RuleError, check_ruleset, load_ruleset
from tests.support.engine_rules import FACTS, FIXTURE, rule, table, unlocated, write_ruleset

LEVEL = {"name": "level", "type": "enum", "values": ["urgent", "routine"]}
PAIN = {"name": "pain.level", "type": "int"}


def _findings(tmp_path: Path, *tables: dict[str, Any], **kwargs: Any) -> list[str]:
    return [unlocated(f) for f in check_ruleset(write_ruleset(tmp_path, tables, **kwargs), FACTS)]


def _simple(**changes: Any) -> dict[str, Any]:
    doc = table(
        "t",
        "COLLECT",
        [PAIN],
        [LEVEL],
        [rule("r1", {"level": "urgent"}, pain__level=">= 7")],
    )
    if "rules" in changes:
        changes["rules"] = [{"source": "test", **r} for r in changes["rules"]]
    doc.update(changes)
    return doc


def test_fixture_loads_and_describes_itself() -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    assert (ruleset.name, ruleset.version) == ("mini", "1.2.3")
    assert dict(ruleset.constants) == {"older_age": 50, "severe_pain": 7}
    described = ruleset.describe()
    assert described["digest"] == ruleset.digest
    urgency = next(t for t in described["tables"] if t["name"] == "urgency")
    assert urgency == {
        "name": "urgency",
        "description": "",
        "hit_policy": "PRIORITY",
        "aggregation": None,
        "inputs": ["red_flags.flag", "pain.level"],
        "outputs": ["level"],
        "rule_count": 4,
    }
    assert ruleset.table("stiffness").rules[0].source == "seed"


def test_digest_is_sha256_over_path_nul_bytes_in_listed_order(tmp_path: Path) -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    doc = yaml.safe_load((FIXTURE / "ruleset.yaml").read_text())
    digest = hashlib.sha256()
    for rel in ["ruleset.yaml", *doc["tables"], doc["catalog"]]:
        digest.update(rel.encode() + b"\0" + (FIXTURE / rel).read_bytes())
    assert ruleset.digest == f"sha256:{digest.hexdigest()}"
    # Any edit, even a comment, changes it.
    copy = tmp_path / "mini"
    shutil.copytree(FIXTURE, copy)
    with (copy / "tables" / "sitting.yaml").open("a") as fh:
        fh.write("# reviewed\n")
    assert load_ruleset(copy, FACTS).digest != ruleset.digest


def test_load_raises_rule_error_with_one_line_per_finding(tmp_path: Path) -> None:
    bad = _simple(rules=[rule("r1", {"level": "nope"}), rule("r1", {"level": "urgent"})])
    write_ruleset(tmp_path, [bad])
    with pytest.raises(RuleError) as info:
        load_ruleset(tmp_path, FACTS)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.findings) == 2
    assert all(re.match(r"tables/t\.yaml:\d+: r1: ", line) for line in lines)


def test_finding_prints_file_rule_and_message() -> None:
    assert str(Finding("tables/a.yaml", "r7", "boom")) == "tables/a.yaml: r7: boom"
    assert str(Finding("tables/a.yaml", None, "boom")) == "tables/a.yaml: -: boom"
    assert str(Finding("tables/a.yaml", "r7", "boom", 12)) == "tables/a.yaml:12: r7: boom"


# Planted faults: (description, tables, extra kwargs, expected finding line).
PLANTED: list[tuple[str, list[dict[str, Any]], dict[str, Any], str]] = [
    (
        "schema: unknown hit policy",
        [_simple(hit_policy="FIRSTISH")],
        {},
        "tables/t.yaml: -: schema: hit_policy: 'FIRSTISH' is not one of",
    ),
    (
        "schema: rule without source names the rule",
        [{**_simple(), "rules": [{"id": "r1", "then": {"level": "urgent"}}]}],
        {},
        "tables/t.yaml: r1: schema: rules[0]: 'source' is a required property",
    ),
    (
        "schema: unknown key",
        [_simple(colour="blue")],
        {},
        "tables/t.yaml: -: schema: document: Additional properties are not allowed",
    ),
    (
        "duplicate rule id in one table",
        [_simple(rules=[rule("r1", {"level": "urgent"}), rule("r1", {"level": "routine"})])],
        {},
        "tables/t.yaml: r1: duplicate rule id",
    ),
    (
        "duplicate rule id across tables",
        [_simple(), {**_simple(), "table": "u"}],
        {},
        "tables/u.yaml: r1: duplicate rule id (also in tables/t.yaml)",
    ),
    (
        "unknown input",
        [_simple(inputs=[{"name": "pain.levle", "type": "int"}])],
        {},
        "tables/t.yaml: -: unknown input 'pain.levle': not a fact and not <table>.<output>",
    ),
    (
        "unknown chained input",
        [_simple(inputs=[{"name": "nosuch.level", "type": "enum"}])],
        {},
        "tables/t.yaml: -: unknown input 'nosuch.level'",
    ),
    (
        "input type does not match the fact",
        [_simple(inputs=[{"name": "pain.level", "type": "number"}])],
        {},
        "tables/t.yaml: -: input 'pain.level' is declared number but the fact is int",
    ),
    (
        "enum values differ from the fact's",
        [_simple(inputs=[{"name": "rom", "type": "enum", "values": ["full"]}])],
        {},
        "tables/t.yaml: -: input 'rom' lists values ['full'], the fact has",
    ),
    (
        "range narrower than the fact's",
        [_simple(inputs=[{"name": "pain.level", "type": "int", "range": [1, 10]}])],
        {},
        "tables/t.yaml: -: input 'pain.level': range [1..10] does not cover the fact's range",
    ),
    (
        "cell tests an input the table does not declare",
        [_simple(rules=[rule("r1", {"level": "urgent"}, age="> 3")])],
        {},
        "tables/t.yaml: r1: tests 'age', which is not an input of this table",
    ),
    (
        "literal that does not fit an int",
        [_simple(rules=[rule("r1", {"level": "urgent"}, pain__level="7.5")])],
        {},
        "tables/t.yaml: r1: input 'pain.level': 7.5 does not fit int input",
    ),
    (
        "literal outside the range",
        [_simple(rules=[rule("r1", {"level": "urgent"}, pain__level="12")])],
        {},
        "tables/t.yaml: r1: input 'pain.level': 12 is outside the range [0..10]",
    ),
    (
        "literal not in the enum",
        [
            _simple(
                inputs=[{"name": "rom", "type": "enum"}],
                rules=[rule("r1", {"level": "urgent"}, rom='"stiff"')],
            )
        ],
        {},
        "tables/t.yaml: r1: input 'rom': \"stiff\" is not one of ['full', 'reduced',",
    ),
    (
        "undefined constant",
        [_simple(rules=[rule("r1", {"level": "urgent"}, pain__level=">= $severe")])],
        {},
        "tables/t.yaml: r1: input 'pain.level': undefined constant $severe",
    ),
    (
        "output value not in the enum",
        [_simple(rules=[rule("r1", {"level": "soon"})])],
        {},
        "tables/t.yaml: r1: output 'level': 'soon' does not fit enum (one of ['urgent',",
    ),
    (
        "missing output without default",
        [_simple(outputs=[LEVEL, {"name": "why", "type": "string"}])],
        {},
        "tables/t.yaml: r1: does not set output 'why', which has no default",
    ),
    (
        "catalog id missing",
        [_simple(outputs=[{**LEVEL, "catalog": "levels"}])],
        {"catalog": {"levels": {"urgent": "See a doctor today"}}},
        "tables/t.yaml: -: output 'level' value 'routine' has no text in catalog section 'levels'",
    ),
    (
        "catalog section missing",
        [_simple(outputs=[{**LEVEL, "catalog": "levels"}])],
        {},
        "tables/t.yaml: -: output 'level': catalog has no section 'levels'",
    ),
    (
        "aggregation without COLLECT",
        [_simple(hit_policy="FIRST", aggregation="SUM")],
        {},
        "tables/t.yaml: -: aggregation SUM is only allowed with COLLECT, not FIRST",
    ),
    (
        "PRIORITY output defaulting to null",
        [_simple(hit_policy="PRIORITY", outputs=[{**LEVEL, "default": None}])],
        {},
        "tables/t.yaml: -: output 'level' is ranked or folded, so it cannot default to null",
    ),
    (
        "SUM output defaulting to null",
        [
            _simple(
                aggregation="SUM",
                outputs=[{"name": "n", "type": "int", "default": None}],
                rules=[rule("r1", {})],
            )
        ],
        {},
        "tables/t.yaml: -: output 'n' is ranked or folded, so it cannot default to null",
    ),
    (
        "cycle between two tables",
        [
            table(
                "a",
                "FIRST",
                [{"name": "b.level", "type": "enum"}],
                [LEVEL],
                [rule("ra", {"level": "urgent"})],
            ),
            table(
                "b",
                "FIRST",
                [{"name": "a.level", "type": "enum"}],
                [LEVEL],
                [rule("rb", {"level": "urgent"})],
            ),
        ],
        {},
        "tables/a.yaml: -: dependency cycle: a -> b -> a",
    ),
    (
        "table reading itself",
        [
            table(
                "a",
                "FIRST",
                [{"name": "a.level", "type": "enum"}],
                [LEVEL],
                [rule("ra", {"level": "urgent"})],
            )
        ],
        {},
        "tables/a.yaml: -: dependency cycle: a -> a",
    ),
]


@pytest.mark.parametrize(
    ("tables", "kwargs", "expected"), [p[1:] for p in PLANTED], ids=[p[0] for p in PLANTED]
)
def test_planted_load_faults_are_reported(
    tmp_path: Path, tables: list[dict[str, Any]], kwargs: dict[str, Any], expected: str
) -> None:
    findings = _findings(tmp_path, *tables, **kwargs)
    assert any(line.startswith(expected) for line in findings), findings


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    write_ruleset(tmp_path, [_simple()])
    (tmp_path / "tables" / "t.yaml").write_text("table: t\nrules: [\n  - id: x\n")
    findings = [unlocated(f) for f in check_ruleset(tmp_path, FACTS)]
    assert len(findings) == 1
    assert findings[0].startswith("tables/t.yaml: -: YAML syntax: ")
    assert check_ruleset(tmp_path, FACTS)[0].line == 3


def test_missing_files_and_directories_are_findings_not_exceptions(tmp_path: Path) -> None:
    assert [unlocated(f) for f in check_ruleset(tmp_path / "nowhere", FACTS)] == [
        "ruleset.yaml: -: cannot read file: No such file or directory"
    ]
    write_ruleset(tmp_path, [_simple()])
    (tmp_path / "catalog.yaml").unlink()
    assert [unlocated(f) for f in check_ruleset(tmp_path, FACTS)] == [
        "catalog.yaml: -: cannot read file: No such file or directory"
    ]


def test_ruleset_schema_is_checked(tmp_path: Path) -> None:
    write_ruleset(tmp_path, [_simple()])
    (tmp_path / "ruleset.yaml").write_text("name: x\nversion: one\ntables: []\ncatalog: c.yaml\n")
    findings = [unlocated(f) for f in check_ruleset(tmp_path, FACTS)]
    assert "ruleset.yaml: -: schema: version: 'one' does not match" in findings[1]
    assert findings[0].startswith("ruleset.yaml: -: schema: tables: [] should be non-empty")
