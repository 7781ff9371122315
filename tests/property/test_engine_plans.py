"""The generated function against the interpreter, on the shipped rules.

``Evaluator.run`` is one function generated for the whole ruleset; ``Evaluator.explain``
interprets it rule by rule and records near misses. Both must report the same matches,
partial matches and values for any facts, chained tables included, whichever tables
``run`` collects partial matches for (the others report none).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from popcheck.config import DEFAULT_RULES_DIR
from popcheck.engine import Evaluator, load_ruleset, plain_value
from popcheck.engine.plan import build_plan
from popcheck.facts import FACTS
from tests.support.engine_rules import FACTS as MINI_FACTS
from tests.support.engine_rules import FIXTURE, build, facts_strategy, rule, table

RULESET = load_ruleset(DEFAULT_RULES_DIR, FACTS)
TABLES = [table.name for table in RULESET.tables]
# No table, every table, and each half of the tables: chained tables read the matches of
# tables whose partial matches are dropped.
SUBSETS = [(), TABLES, TABLES[::2], TABLES[1::2]]
EVALUATORS = [(set(names), Evaluator(RULESET, partial_for=names).run) for names in SUBSETS]
EVERY_PARTIAL = Evaluator(RULESET)


def _summary(facts: dict[str, Any], explain: bool) -> list[Any]:
    results = EVERY_PARTIAL.explain(facts).results if explain else EVERY_PARTIAL.run(facts)
    return [
        (
            name,
            [m.rule_id for m in result.matches],
            [(p.rule_id, p.missing) for p in result.partial],
            plain_value(result.value),
        )
        for name, result in results.items()
    ]


@settings(max_examples=300, deadline=None)
@given(facts_strategy(FACTS))
def test_generated_ruleset_function_agrees_with_the_interpreter(facts: dict[str, Any]) -> None:
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
        Evaluator(RULESET, partial_for=["nope"])


def _big_chained_ruleset(directory: Path) -> Any:
    """The mini fixture plus a COLLECT table of 80 rules over the chained ``urgency.level``
    (enum), two raw facts and a number: large enough to be indexed, on whichever column
    saves the most tests."""
    rng = random.Random(3)
    docs = [yaml.safe_load(path.read_text()) for path in sorted(FIXTURE.glob("tables/*.yaml"))]
    levels = ["emergency", "urgent", "routine", "self_care"]
    roms = ["full", "reduced", "very_limited"]
    rules = []
    for i in range(80):
        when = {
            "urgency.level": rng.choice([f'"{rng.choice(levels)}"', "-", "null"]),
            "rom": rng.choice([f'"{rng.choice(roms)}"', f'not("{rng.choice(roms)}")', "-"]),
            "saddle": rng.choice(["true", "false", "-"]),
            "pain.level": rng.choice([f"[{i % 6}..{i % 6 + 4}]", f">= {i % 9}", "-"]),
        }
        rules.append(rule(f"a{i}", {"tip": rng.choice(["rest", "move"])}, **when))
    advice = table(
        "advice",
        "COLLECT",
        [
            {"name": "urgency.level", "type": "enum"},
            {"name": "rom", "type": "enum"},
            {"name": "saddle", "type": "bool"},
            {"name": "pain.level", "type": "int"},
        ],
        [{"name": "tip", "type": "enum", "values": ["rest", "move"]}],
        rules,
    )
    catalog = yaml.safe_load((FIXTURE / "catalog.yaml").read_text())
    constants = yaml.safe_load((FIXTURE / "ruleset.yaml").read_text())["constants"]
    return build(directory, *docs, advice, catalog=catalog, constants=constants)


@pytest.fixture(scope="module")
def big_chained(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, Evaluator]]:
    """(tables whose partial matches are collected, evaluator), the first for them all."""
    ruleset = _big_chained_ruleset(tmp_path_factory.mktemp("big"))
    index = build_plan(ruleset).tables[-1].index
    assert index is not None and index.column == "urgency.level"
    return [(names, Evaluator(ruleset, partial_for=names)) for names in (None, ["advice"], [])]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=facts_strategy(MINI_FACTS))
def test_an_indexed_table_reading_a_chained_fact_agrees_with_the_interpreter(
    big_chained: list[tuple[Any, Evaluator]], facts: dict[str, Any]
) -> None:
    expected = big_chained[0][1].explain(facts).results
    for names, evaluator in big_chained:
        for name, result in evaluator.run(facts).items():
            want = expected[name]
            assert (result.matches, result.value) == (want.matches, want.value)
            assert result.partial == (want.partial if names is None or name in names else ())
