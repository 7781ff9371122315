"""The golden clinical cases (``tests/golden/*.yaml``), one test per case, plus the proof that
between them they fire every rule and cover what issue 4 asks for.

The same cases run under ``popcheck rules test``; both go through ``popcheck.golden``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from popcheck.assessment import URGENCY_LEVELS, Assessor, load_assessor
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.golden import CaseResult, GoldenCase, load_cases, run_case

CASES_DIR = Path(__file__).parent
CASES = load_cases(CASES_DIR)
RED_FLAGS = (
    "cauda_equina",
    "neurological_deficit",
    "fracture",
    "infection",
    "malignancy",
    "aortic_aneurysm",
)


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return load_assessor(DEFAULT_RULES_DIR)


@pytest.fixture(scope="module")
def results(assessor: Assessor) -> dict[str, CaseResult]:
    return {case.id: run_case(assessor, case) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_golden_case(assessor: Assessor, case: GoldenCase) -> None:
    result = run_case(assessor, case)
    assert not result.failures, f"{case.id}:\n  " + "\n  ".join(result.failures)


def test_cases_fire_every_rule(assessor: Assessor, results: dict[str, CaseResult]) -> None:
    rules = {rule.id for table in assessor.ruleset.tables for rule in table.rules}
    fired = set().union(*(result.fired for result in results.values()))
    uncovered = sorted(rules - fired)
    coverage = 100 * len(rules & fired) / len(rules)
    assert not uncovered, f"rule coverage {coverage:.1f}%; no case fires: {', '.join(uncovered)}"


def test_there_are_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60, len(CASES)


def test_every_urgency_level_is_expected_exactly_somewhere() -> None:
    expected = {case.expect["urgency"] for case in CASES if "urgency" in case.expect}
    assert expected == set(URGENCY_LEVELS)


@pytest.mark.parametrize("flag", RED_FLAGS)
def test_each_red_flag_has_a_case_where_it_is_alone(flag: str) -> None:
    alone = [c for c in CASES if c.expect.get("red_flags_exactly") == [flag]]
    assert alone, f"no case expects {flag} as the only red flag"


def test_red_flags_are_combined_somewhere() -> None:
    combined = [c for c in CASES if len(c.expect.get("red_flags", [])) >= 2]
    assert len(combined) >= 3


def test_cases_never_contradict_themselves() -> None:
    for case in CASES:
        expect = case.expect
        for present, absent in (
            ("red_flags", "not_red_flags"),
            ("causes", "not_causes"),
            ("recommendations", "not_recommendations"),
            ("questions", "not_questions"),
        ):
            both = set(expect.get(present, [])) & set(expect.get(absent, []))
            assert not both, f"{case.id}: {sorted(both)} both expected and banned"
