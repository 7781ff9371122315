"""The whole-ruleset generated function against the per-table path, on the shipped rules.

``evaluate`` runs one generated function for a ruleset without indexed tables; with
``explain`` it takes the per-table path that also records near misses. Both must report
the same matches, partial matches and values for any facts, chained tables included.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from service.config import DEFAULT_RULES_DIR
from service.engine import evaluate, load_ruleset, plain_value
from service.facts import FACTS
from tests.support.engine_rules import facts_strategy

RULESET = load_ruleset(DEFAULT_RULES_DIR, FACTS)


def _summary(facts: dict[str, Any], explain: bool) -> list[Any]:
    results = evaluate(RULESET, facts, explain=explain).results
    return [
        (
            name,
            [m.rule_id for m in result.matches],
            [(p.rule_id, p.missing) for p in result.partial],
            plain_value(result.value),
        )
        for name, result in results.items()
    ]


def test_the_shipped_ruleset_runs_as_one_generated_function() -> None:
    assert RULESET.plan.run is not None


@settings(max_examples=300, deadline=None)
@given(facts_strategy(FACTS))
def test_generated_ruleset_function_agrees_with_the_per_table_path(facts: dict[str, Any]) -> None:
    assert _summary(facts, explain=False) == _summary(facts, explain=True)
