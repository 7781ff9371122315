"""Reading zen-engine's answer to an exported JDM graph back in popcheck's terms (tests only)."""

from __future__ import annotations

from typing import Any

from popcheck.engine import HitPolicy, Ruleset


def table_values(result: dict[str, Any], ruleset: Ruleset) -> dict[str, Any]:
    """Per table, zen's answer in the shape of our ``TableResult.value``."""
    rows = result.get("rows", {})
    facts = result.get("facts", {})
    values: dict[str, Any] = {}
    for table in ruleset.tables:
        if table.hit_policy is HitPolicy.COLLECT and table.aggregation is not None:
            values[table.name] = facts.get(table.name, {}).get(table.outputs[0].name)
        elif table.hit_policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER):
            values[table.name] = rows.get(table.name, [])
        else:
            values[table.name] = rows.get(table.name) or None
    return values
