"""``popcheck.golden`` itself: a malformed case is refused, and a wrong expectation fails.

Without these, a typo in a case file or a runner that checks nothing would let every golden
case "pass".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from popcheck.assessment import Assessor, load_assessor
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.golden import GoldenCase, GoldenError, load_cases, run_case


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return load_assessor(DEFAULT_RULES_DIR)


def _case(expect: dict[str, Any], body: dict[str, Any] | None = None) -> GoldenCase:
    return GoldenCase(
        "case", "inline.yaml", body or {"age": 40, "neuro": {"saddle_numbness": True}}, expect
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {name: a, input: {age: 40}, expect: {urgecny: soon}}", "unknown expectation"),
        ("- {name: a, input: {age: 40}, expect: {urgency: later}}", "urgency must be one of"),
        ("- {name: a, input: {age: 40}}", "proves nothing"),
        ("- {name: a, input: {age: 40}, expect: {red_flags: fever}}", "list of ids"),
        ("- {name: a, input: [], expect: {urgency: soon}}", "input must be a mapping"),
        ("- {input: {age: 40}, expect: {urgency: soon}}", "needs a name"),
        ("{name: a}", "a list of cases"),
        (
            "- {name: a, input: {age: 40}, expect: {urgency: soon}}\n"
            "- {name: a, input: {age: 41}, expect: {urgency: soon}}",
            "duplicate case",
        ),
    ],
)
def test_malformed_cases_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GoldenError, match=message):
        load_cases(path)


@pytest.mark.parametrize(
    ("expect", "failure"),
    [
        ({"urgency": "soon"}, "urgency is emergency, expected soon"),
        ({"max_urgency": "urgent"}, "expected at most urgent"),
        ({"red_flags_exactly": []}, "expected exactly []"),
        ({"not_red_flags": ["cauda_equina"]}, "unexpected red flag"),
        ({"recommendations": ["cat_cow"]}, "missing recommendation ['cat_cow']"),
        ({"not_recommendations": ["emergency_department"]}, "unexpected recommendation"),
        ({"not_recommendation_types": ["referral"]}, "unexpected recommendation type"),
        ({"evidence": {"cauda_equina": ["systemic.fever"]}}, "lacks ['systemic.fever']"),
        ({"questions": ["systemic.fever"]}, "missing question"),
        ({"warnings": ["pop_timing_conflict"]}, "missing warning"),
        ({"likelihood": {"refractory_period": "likely"}}, "absent, expected likely"),
    ],
)
def test_a_wrong_expectation_fails_and_says_why(
    assessor: Assessor, expect: dict[str, Any], failure: str
) -> None:
    result = run_case(assessor, _case(expect))
    assert any(failure in message for message in result.failures), result.failures
    assert "rf_ces_saddle_numbness" in result.fired


def test_a_right_expectation_passes(assessor: Assessor) -> None:
    result = run_case(assessor, _case({"urgency": "emergency", "red_flags": ["cauda_equina"]}))
    assert result.passed, result.failures


def test_a_crash_is_a_failure_not_an_exception(assessor: Assessor) -> None:
    result = run_case(assessor, _case({"urgency": "soon"}, {"age": 40, "neuro": {"typo": True}}))
    assert result.failures and "raised UnknownFieldError" in result.failures[0]
