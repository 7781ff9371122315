"""The JDM export, run by zen-engine, answers like our engine on generated facts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from popcheck.engine import FactSpec, Ruleset, evaluate, load_ruleset
from popcheck.engine.jdm import export_jdm, nest
from tests.support.engine_rules import FACTS, FIXTURE, facts_strategy
from tests.support.zen_results import table_values

zen = pytest.importorskip("zen", reason="zen-engine is a dev dependency")


def _engine(ruleset: Ruleset) -> Any:
    # zen's fastest Python path: a static loader and the decision created once.
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"g": export_jdm(ruleset)}}})
    return engine.get_decision("g")


def _agree(ruleset: Ruleset, decision: Any, facts: Mapping[str, Any]) -> None:
    ours = {name: r.value for name, r in evaluate(ruleset, facts).results.items()}
    theirs = table_values(decision.evaluate(nest(dict(facts)))["result"], ruleset)
    assert theirs == ours


FIXTURE_RULESET = load_ruleset(FIXTURE, FACTS)
FIXTURE_DECISION = _engine(FIXTURE_RULESET)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_strategy(FACTS))
def test_zen_runs_the_export_of_the_fixture_like_we_do(facts: dict[str, Any]) -> None:
    _agree(FIXTURE_RULESET, FIXTURE_DECISION, facts)


def _shipped() -> tuple[Ruleset, Mapping[str, FactSpec]]:
    from popcheck.config import DEFAULT_RULES_DIR
    from popcheck.facts import FACTS as APP_FACTS

    return load_ruleset(Path(DEFAULT_RULES_DIR), APP_FACTS), APP_FACTS


SHIPPED, APP_FACTS = _shipped()
SHIPPED_DECISION = _engine(SHIPPED)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_strategy(APP_FACTS))
def test_zen_runs_the_export_of_the_shipped_rules_like_we_do(facts: dict[str, Any]) -> None:
    _agree(SHIPPED, SHIPPED_DECISION, facts)
