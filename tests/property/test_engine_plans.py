"""The whole-ruleset generated function against the per-table path, on the shipped rules.

``evaluate`` runs one generated function for a ruleset without indexed tables; with
``explain`` it takes the per-table path that also records near misses. Both must report
the same matches, partial matches and values for any facts, chained tables included. So
must the functions ``evaluator_for`` generates, which collect partial matches for some
tables only.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from service.config import DEFAULT_RULES_DIR
from service.engine import evaluate, evaluator_for, load_ruleset, plain_value
from service.facts import FACTS
from tests.support.engine_rules import facts_strategy

RULESET = load_ruleset(DEFAULT_RULES_DIR, FACTS)
TABLES = [table.name for table in RULESET.tables]
# No table, every table, and each half of the tables: chained tables read the matches of
# tables whose partial matches are dropped.
SUBSETS = [(), TABLES, TABLES[::2], TABLES[1::2]]
EVALUATORS = [(set(names), evaluator_for(RULESET, partial_for=names)) for names in SUBSETS]


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


@settings(max_examples=200, deadline=None)
@given(facts_strategy(FACTS))
def test_partial_matches_only_where_asked_and_the_rest_unchanged(facts: dict[str, Any]) -> None:
    expected = _summary(facts, explain=True)
    for names, run in EVALUATORS:
        results = run(facts)
        assert [
            (
                name,
                [m.rule_id for m in result.matches],
                [(p.rule_id, p.missing) for p in result.partial] if name in names else [],
                plain_value(result.value),
            )
            for name, result in results.items()
        ] == [
            (name, matched, partial if name in names else [], value)
            for name, matched, partial, value in expected
        ]


def test_partial_matches_of_an_unknown_table_are_refused() -> None:
    with pytest.raises(ValueError, match="no such table: nope"):
        evaluator_for(RULESET, partial_for=["nope"])
