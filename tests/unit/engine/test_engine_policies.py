"""Hit policies, chaining, partial matches, trace and run-time enforcement."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from popcheck import engine
from popcheck.engine import Evaluation, EvaluationError, Evaluator, HitPolicy, Ruleset, load_ruleset
from popcheck.engine.plan import build_plan
from tests.support.engine_rules import FACTS, FIXTURE, build, rule, table

LEVEL = {
    "name": "level",
    "type": "enum",
    "values": ["emergency", "urgent", "routine", "self_care"],
}
PAIN = {"name": "pain.level", "type": "int"}


def evaluate(ruleset: Ruleset, facts: Mapping[str, Any], *, explain: bool = False) -> Evaluation:
    """``engine.evaluate`` (the interpreter), held to ``Evaluator.run`` (the generated
    function): every answer and every error below is both paths'."""
    try:
        generated = Evaluator(ruleset).run(facts)
    except EvaluationError as exc:
        with pytest.raises(EvaluationError, match=re.escape(str(exc))):
            engine.evaluate(ruleset, facts, explain=explain)
        raise
    evaluation = engine.evaluate(ruleset, facts, explain=explain)
    assert dict(evaluation.results) == generated
    return evaluation


def _pain_table(policy: str, **extra: Any) -> dict[str, Any]:
    return table(
        "t",
        policy,
        [PAIN],
        [LEVEL],
        [
            rule("low", {"level": "self_care"}, pain__level="<= 3"),
            rule("mid", {"level": "routine"}, pain__level="[3..7]"),
            rule("high", {"level": "urgent"}, pain__level=">= 7"),
        ],
        **extra,
    )


def _ids(ruleset: Ruleset, facts: dict[str, Any], name: str = "t") -> list[str]:
    return [m.rule_id for m in evaluate(ruleset, facts).results[name].matches]


def test_unique_returns_the_one_match(tmp_path: Path) -> None:
    ruleset = build(
        tmp_path,
        table(
            "t",
            "UNIQUE",
            [PAIN],
            [LEVEL],
            [
                rule("low", {"level": "self_care"}, pain__level="< 5"),
                rule("high", {"level": "urgent"}, pain__level=">= 5"),
            ],
        ),
    )
    result = evaluate(ruleset, {"pain.level": 6}).results["t"]
    assert result.value == {"level": "urgent"}
    assert [m.rule_id for m in result.matches] == ["high"]


def _with_policy(ruleset: Ruleset, name: str, policy: HitPolicy) -> Ruleset:
    """The ruleset with one table's policy swapped, bypassing the static checker.

    A checked UNIQUE or ANY table cannot overlap (the checker proves it), so the run-time
    guards can only be reached by a table that skipped the check.
    """
    tables = tuple(replace(t, hit_policy=policy) if t.name == name else t for t in ruleset.tables)
    return replace(ruleset, tables=tables)


def test_unique_with_two_matches_is_an_error_not_the_first(tmp_path: Path) -> None:
    ruleset = _with_policy(build(tmp_path, _pain_table("COLLECT")), "t", HitPolicy.UNIQUE)
    assert _ids(ruleset, {"pain.level": 1}) == ["low"]
    with pytest.raises(EvaluationError, match="UNIQUE but rules low, mid all match"):
        evaluate(ruleset, {"pain.level": 3})


def test_any_accepts_agreeing_matches_and_rejects_disagreeing(tmp_path: Path) -> None:
    flags = table(
        "flags",
        "COLLECT",
        [{"name": "saddle", "type": "bool"}, {"name": "fever", "type": "bool"}],
        [{"name": "flag", "type": "enum", "values": ["a", "b", "c"]}],
        [
            rule("fa", {"flag": "a"}, saddle="true"),
            rule("fb", {"flag": "b"}, saddle="true", fever="true"),
            rule("fc", {"flag": "c"}, fever="true"),
        ],
    )
    anyt = table(
        "t",
        "ANY",
        [{"name": "flags.flag", "type": "enum_list"}],
        [LEVEL],
        [
            rule("has_a", {"level": "urgent"}, flags__flag='"a"'),
            rule("has_b", {"level": "urgent"}, flags__flag='"b"'),
            rule("has_c", {"level": "routine"}, flags__flag='"c", "b"'),
        ],
    )
    with pytest.raises(Exception, match="overlaps with different outputs rule has_b"):
        build(tmp_path / "checked", flags, anyt)
    # Without the disagreeing rule the table checks and agreeing overlaps are fine.
    anyt["rules"] = anyt["rules"][:2]
    ruleset = build(tmp_path / "ok", flags, anyt)
    result = evaluate(ruleset, {"saddle": True, "fever": True}).results["t"]
    assert [m.rule_id for m in result.matches] == ["has_a", "has_b"]
    assert result.value == {"level": "urgent"}


def test_any_disagreement_at_run_time_is_an_error(tmp_path: Path) -> None:
    ruleset = _with_policy(build(tmp_path, _pain_table("COLLECT")), "t", HitPolicy.ANY)
    with pytest.raises(EvaluationError, match="ANY but rules low and mid"):
        evaluate(ruleset, {"pain.level": 3})


def test_first_takes_the_first_match_in_file_order(tmp_path: Path) -> None:
    ruleset = build(tmp_path, _pain_table("FIRST"))
    assert _ids(ruleset, {"pain.level": 3}) == ["low"]
    assert _ids(ruleset, {"pain.level": 7}) == ["mid"]
    assert evaluate(ruleset, {"pain.level": 9}).results["t"].value == {"level": "urgent"}
    assert evaluate(ruleset, {"pain.level": None}).results["t"].value is None


def test_priority_picks_the_highest_priority_output(tmp_path: Path) -> None:
    ruleset = build(tmp_path, _pain_table("PRIORITY"))
    result = evaluate(ruleset, {"pain.level": 7}).results["t"]
    assert [m.rule_id for m in result.matches] == ["mid", "high"]
    assert result.value == {"level": "urgent"}
    assert evaluate(ruleset, {"pain.level": 3}).results["t"].value == {"level": "routine"}


def test_collect_and_rule_order_return_every_match_in_rule_order(tmp_path: Path) -> None:
    for policy in ("COLLECT", "RULE ORDER"):
        ruleset = build(tmp_path / policy.replace(" ", "_"), _pain_table(policy))
        result = evaluate(ruleset, {"pain.level": 3}).results["t"]
        assert result.value == [{"level": "self_care"}, {"level": "routine"}]


@pytest.mark.parametrize(
    ("aggregation", "output", "values", "expected", "expected_none"),
    [
        ("COUNT", {"name": "n", "type": "int"}, [1, 1, 1], 2, 0),
        ("SUM", {"name": "n", "type": "int"}, [1, 2, 4], 3, 0),
        ("SUM", {"name": "n", "type": "number"}, [0.5, 0.25, 1], 0.75, 0),
        ("MIN", {"name": "n", "type": "int"}, [5, 2, 9], 2, None),
        ("MAX", {"name": "n", "type": "int"}, [5, 2, 9], 5, None),
        ("MAX", {**LEVEL, "name": "n"}, ["routine", "urgent", "self_care"], "routine", None),
        ("MIN", {**LEVEL, "name": "n"}, ["routine", "urgent", "self_care"], "urgent", None),
    ],
)
def test_collect_aggregations(
    tmp_path: Path,
    aggregation: str,
    output: dict[str, Any],
    values: list[Any],
    expected: Any,
    expected_none: Any,
) -> None:
    ruleset = build(
        tmp_path,
        table(
            "t",
            "COLLECT",
            [PAIN],
            [output],
            [
                rule("r1", {"n": values[0]}, pain__level="<= 3"),
                rule("r2", {"n": values[1]}, pain__level="[3..7]"),
                rule("r3", {"n": values[2]}, pain__level=">= 8"),
            ],
            aggregation=aggregation,
        ),
    )
    assert evaluate(ruleset, {"pain.level": 3}).results["t"].value == expected
    assert evaluate(ruleset, {}).results["t"].value == expected_none


def test_fixture_chains_in_dependency_order_not_file_order() -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    names = [t.name for t in ruleset.tables]
    assert names.index("red_flags") < names.index("urgency") < names.index("flag_count") or (
        names.index("red_flags") < names.index("flag_count")
        and names.index("red_flags") < names.index("urgency")
    )
    result = evaluate(ruleset, {"saddle": True, "fever": True, "age": 60})
    assert result.results["red_flags"].value == [{"flag": "ces"}, {"flag": "infection"}]
    assert result.results["urgency"].value == {"level": "emergency"}
    assert result.results["flag_count"].value == 2
    calm = evaluate(ruleset, {"saddle": False, "fever": False, "pain.level": 8})
    assert calm.results["urgency"].value == {"level": "routine"}
    assert calm.results["flag_count"].value == 0


def test_partial_matches_name_the_unanswered_inputs() -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    result = evaluate(ruleset, {"fever": True}).results["red_flags"]
    assert result.matches == ()
    partial = {p.rule_id: p.missing for p in result.partial}
    assert partial == {"rf_saddle": ("saddle",), "rf_fever_older": ("age",)}
    # An answered condition that fails rules the rule out: no partial match.
    result = evaluate(ruleset, {"fever": False}).results["red_flags"]
    assert [p.rule_id for p in result.partial] == ["rf_saddle"]


def test_unanswered_never_matches_not_or_comparisons() -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    result = evaluate(ruleset, {"rom": "reduced"}).results["stiffness"]
    # tight is unanswered: "not(...), null" matches it, the positive rule needs an answer.
    assert [m.rule_id for m in result.matches] == ["st_reduced_other"]
    assert [p.rule_id for p in result.partial] == ["st_reduced_tight"]


def test_trace_lists_matches_partials_and_near_misses() -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    facts = {"saddle": False, "fever": True, "age": 40, "sitting_hours": 3.5}
    evaluation = evaluate(ruleset, facts, explain=True)
    assert evaluation.trace is not None
    json.dumps(evaluation.trace)  # JSON-ready
    by_table = {entry["table"]: entry for entry in evaluation.trace}
    red = by_table["red_flags"]
    assert red["matched"] == []
    near = {n["rule"]: n["failed"] for n in red["near_misses"]}
    assert near == {"rf_saddle": "saddle", "rf_fever_older": "age"}
    sitting = by_table["sitting"]
    assert sitting["matched"] == [{"rule": "sit_mid", "outputs": {"band": "mid"}}]
    assert {n["rule"] for n in sitting["near_misses"]} == {"sit_long"}
    assert evaluate(ruleset, facts).trace is None
    # The trace does not change the answer.
    plain = evaluate(ruleset, facts)
    for name, result in plain.results.items():
        assert evaluation.results[name] == result


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"pain.level": "7"}, "'pain.level' must be a number"),
        ({"pain.level": 11}, "outside its range"),
        ({"pain.level": 2.5}, "must be an integer"),
        ({"saddle": 1}, "must be a bool"),
        ({"rom": "stiff"}, "not one of its enum values"),
        ({"tight": "hips"}, "must be a list"),
        ({"tight": ["knees"]}, "not one of its enum values"),
        ({"tight": [["hips"]]}, "not one of its enum values"),
        ({"rom": ["full"]}, "not one of its enum values"),
        ({"age": True}, "must be a number"),
        ({"sitting_hours": float("nan")}, "finite"),
    ],
)
def test_mistyped_facts_are_an_error_not_a_silent_no_match(
    facts: dict[str, Any], message: str
) -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    with pytest.raises(EvaluationError, match=message):
        evaluate(ruleset, facts)


def test_evaluate_does_not_touch_the_callers_facts() -> None:
    ruleset = load_ruleset(FIXTURE, FACTS)
    facts = {"saddle": True}
    evaluate(ruleset, facts)
    assert facts == {"saddle": True}


def test_index_keeps_partial_matches_when_the_indexed_input_is_unanswered(
    tmp_path: Path,
) -> None:
    ruleset = build(
        tmp_path,
        table(
            "t",
            "COLLECT",
            [{"name": "rom", "type": "enum"}, PAIN],
            [LEVEL],
            [
                rule(f"r{i}", {"level": "routine"}, rom=f'"{rom}"', pain__level=f">= {i}")
                for i, rom in enumerate(["full", "reduced", "very_limited"] * 3)
            ]
            # Enough rules for the table to be indexed (see plan.INDEX_MIN_RULES);
            # with pain 4 answered, none of these matches or half-matches.
            + [
                rule(f"f{i}", {"level": "routine"}, rom='"full"', pain__level="10")
                for i in range(60)
            ],
        ),
    )
    index = build_plan(ruleset).tables[0].index
    assert index is not None and index.column == "rom"
    result = evaluate(ruleset, {"pain.level": 4}).results["t"]
    assert [p.rule_id for p in result.partial] == [f"r{i}" for i in range(5)]
    assert _ids(ruleset, {"rom": "reduced", "pain.level": 4}) == ["r1", "r4"]
