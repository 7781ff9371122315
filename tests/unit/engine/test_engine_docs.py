"""docs/rules.md stays true to the engine: its table schema and its scenario example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from popcheck.commands.rules import _Report, _run_scenario
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.engine import load_ruleset
from popcheck.engine.loader import validate
from popcheck.engine.schema import SCENARIO_SCHEMA, TABLE_SCHEMA

DOC = (Path(__file__).resolve().parents[3] / "docs" / "rules.md").read_text()


def _section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.index("\n## ", start + 1)
    return DOC[start:end]


def test_docs_embed_the_table_schema_verbatim() -> None:
    block = re.search(r"```json\n(.*?)\n```", _section("Table schema"), re.S)
    assert block is not None
    assert json.loads(block.group(1)) == TABLE_SCHEMA


def test_docs_table_example_is_schema_valid() -> None:
    block = re.search(r"```yaml\n(.*?)\n```", _section("A table"), re.S)
    assert block is not None
    assert validate(yaml.safe_load(block.group(1)), TABLE_SCHEMA, "docs") == []


def test_docs_scenario_example_passes_on_the_shipped_rules() -> None:
    from popcheck.facts import FACTS

    block = re.search(r"```yaml\n(.*?)\n```", _section("Engine scenarios"), re.S)
    assert block is not None
    scenarios = yaml.safe_load(block.group(1))
    assert validate(scenarios, SCENARIO_SCHEMA, "docs") == []
    ruleset = load_ruleset(DEFAULT_RULES_DIR, FACTS)
    report = _Report()
    for scenario in scenarios:
        assert _run_scenario(ruleset, scenario, report.fired) == []
    assert report.fired  # the example fires rules, it does not pass vacuously
