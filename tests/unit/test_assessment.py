"""``popcheck.assessment``: how the engine's results become one Assessment body.

The clinical answers themselves are proven by the golden cases and the property tests; these
tests pin the assembly: which reasons, which rule, which order, what is filtered, and that a
ruleset the pipeline cannot serve is refused at load time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from popcheck.assessment import URGENCY_LEVELS, Assessor, load_assessor
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.engine import EvaluationError, RuleError

BODY_KEYS = {
    "ruleset",
    "urgency",
    "red_flags",
    "causes",
    "recommendations",
    "questions",
    "warnings",
    "disclaimer",
}


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return load_assessor(DEFAULT_RULES_DIR)


def _ids(items: list[dict[str, Any]], key: str = "id") -> list[str]:
    return [item[key] for item in items]


def test_body_has_the_contract_keys_and_trace_only_when_asked(assessor: Assessor) -> None:
    body = assessor.assess({"age": 40})
    assert set(body) == BODY_KEYS
    explained = assessor.assess({"age": 40}, explain=True)
    assert set(explained) == BODY_KEYS | {"trace"}
    assert [step["table"] for step in explained["trace"]] == [
        table.name for table in assessor.ruleset.tables
    ]
    assert {k: v for k, v in explained.items() if k != "trace"} == body


def test_ruleset_reference(assessor: Assessor) -> None:
    ref = assessor.assess({"age": 40})["ruleset"]
    assert ref == {
        "name": assessor.ruleset.name,
        "version": assessor.ruleset.version,
        "digest": assessor.ruleset.digest,
    }
    # The version the rules declare, whatever it is: an author's bump must not fail this.
    declared = yaml.safe_load((DEFAULT_RULES_DIR / "ruleset.yaml").read_text(encoding="utf-8"))
    assert ref["version"] == declared["version"]
    assert ref["digest"].startswith("sha256:")


def test_red_flag_urgency_is_explained_by_the_red_flag_rules(assessor: Assessor) -> None:
    urgency = assessor.assess({"age": 40, "neuro": {"saddle_numbness": True}})["urgency"]
    assert urgency["level"] == "emergency"
    assert urgency["rank"] == 4
    assert urgency["rule"] == "rf_ces_saddle_numbness"
    assert len(urgency["reasons"]) == 1
    assert "numbness" in urgency["reasons"][0]


def test_reasons_come_from_every_rule_at_the_winning_level(assessor: Assessor) -> None:
    body = assessor.assess(
        {"age": 40, "duration_days": 100, "pain": {"level": 9}, "systemic": {"fever": False}}
    )
    assert body["urgency"]["level"] == "soon"
    assert body["urgency"]["rule"] == "urg_very_severe_pain"
    assert body["urgency"]["reasons"] == ["Your pain is very bad (9 out of 10)."]

    both = assessor.assess(
        {"age": 40, "pain": {"level": 9}, "systemic": {"unexplained_weight_loss": True}}
    )["urgency"]
    assert both["level"] == "soon"
    assert len(both["reasons"]) == 2  # the weight-loss flag and the very severe pain


def test_a_lower_level_rule_gives_no_reason(assessor: Assessor) -> None:
    # Osteoporosis alone is routine; with a minor fall it is urgent, and only that explains it.
    body = assessor.assess({"age": 70, "history": {"osteoporosis": True, "recent_trauma": "minor"}})
    assert body["urgency"]["level"] == "urgent"
    assert body["urgency"]["rule"] == "rf_fx_fall_osteoporosis"
    assert not any("physiotherapist" in reason for reason in body["urgency"]["reasons"])


def test_red_flags_most_severe_first_with_evidence(assessor: Assessor) -> None:
    body = assessor.assess(
        {"age": 45, "systemic": {"fever": True}, "neuro": {"bladder_or_bowel_change": True}}
    )
    assert _ids(body["red_flags"]) == ["cauda_equina", "infection"]
    assert body["red_flags"][0]["evidence"] == ["neuro.bladder_or_bowel_change"]
    assert body["red_flags"][1]["evidence"] == ["systemic.fever"]


def test_causes_explained_with_the_persons_answers(assessor: Assessor) -> None:
    body = assessor.assess(
        {
            "age": 38,
            "last_pop_minutes_ago": 12,
            "duration_days": 21,
            "lifestyle": {"sitting_hours_per_day": 10},
            "stiffness": {"range_of_motion": "reduced"},
        }
    )
    causes = {c["id"]: c for c in body["causes"]}
    assert _ids(body["causes"])[0] == "refractory_period"
    assert "12 minutes ago" in causes["refractory_period"]["explanation"]
    assert "10 hours a day" in causes["reduced_flexibility"]["explanation"]
    assert causes["reduced_flexibility"]["evidence"] == [
        "lifestyle.sitting_hours_per_day",
        "stiffness.range_of_motion",
    ]


def test_a_more_specific_rule_replaces_the_general_reason(assessor: Assessor) -> None:
    body = assessor.assess(
        {
            "age": 45,
            "pain": {"below_knee": True, "radiates_to_leg": True},
            "neuro": {"numbness": True},
        }
    )
    nerve = next(c for c in body["causes"] if c["id"] == "nerve_root_irritation")
    assert nerve["score"] == 0.85
    assert nerve["explanation"].count("below the knee") == 1
    assert nerve["evidence"] == ["pain.below_knee", "neuro.numbness"]


def test_inflammatory_evidence_names_the_asas_answers(assessor: Assessor) -> None:
    body = assessor.assess(
        {
            "age": 30,
            "duration_days": 120,
            "onset": "gradual",
            "pain": {"worse_with_rest": True, "worse_at_night": True},
            "stiffness": {"improves_with_movement": True},
        }
    )
    cause = next(c for c in body["causes"] if c["id"] == "inflammatory_back_pain")
    assert cause["likelihood"] == "likely"
    assert "5 of the 5" in cause["explanation"]
    assert set(cause["evidence"]) == {
        "duration_days",
        "age",
        "onset",
        "stiffness.improves_with_movement",
        "pain.worse_with_rest",
        "pain.worse_at_night",
    }


def test_contraindications_remove_what_other_rules_suggest(assessor: Assessor) -> None:
    request = {"age": 40, "muscles": {"tight": ["lower_back"], "spasm": True}}
    suggested = _ids(assessor.assess(request)["recommendations"])
    assert {"supine_twist", "knee_to_chest", "childs_pose"} <= set(suggested)
    blocked = _ids(
        assessor.assess({**request, "history": {"osteoporosis": True}})["recommendations"]
    )
    assert not {"supine_twist", "knee_to_chest", "childs_pose", "chiropractor"} & set(blocked)
    assert "pelvic_tilt" in blocked  # the gentle one stays


def test_recommendations_listed_referral_first_then_precaution_therapy_stretch(
    assessor: Assessor,
) -> None:
    recs = assessor.assess(
        {"age": 40, "duration_days": 60, "pain": {"level": 3}, "muscles": {"spasm": True}}
    )["recommendations"]
    order = ["referral", "precaution", "therapy", "stretch"]
    types = [r["type"] for r in recs]
    assert types == sorted(types, key=order.index)
    assert set(types) == set(order)


def test_doses_only_for_stretches_and_therapies(assessor: Assessor) -> None:
    recs = assessor.assess({"age": 40, "muscles": {"spasm": True}})["recommendations"]
    by_id = {r["id"]: r for r in recs}
    assert by_id["cat_cow"]["dose"] == "10 times, hold each for 3 seconds, twice a day"
    assert by_id["heat_therapy"]["dose"] == "15 minutes, 3 times a day"
    assert by_id["avoid_forceful_manipulation"]["dose"] is None


def test_questions_raise_urgency_most_urgent_first(assessor: Assessor) -> None:
    body = assessor.assess({"age": 45, "pain": {"radiates_to_leg": True}})
    fields = _ids(body["questions"], "field")
    assert fields[:2] == ["neuro.saddle_numbness", "neuro.bladder_or_bowel_change"]
    assert "pain.radiates_to_leg" not in fields  # answered
    # Routine-level questions (osteoporosis) come after emergency-level ones (fever + weakness).
    assert fields.index("neuro.leg_weakness") < fields.index("history.osteoporosis")


def test_no_question_can_raise_an_emergency(assessor: Assessor) -> None:
    body = assessor.assess({"age": 45, "neuro": {"saddle_numbness": True}})
    assert body["questions"] == []


def test_questions_only_above_the_current_level(assessor: Assessor) -> None:
    body = assessor.assess({"age": 45, "systemic": {"fever": True}})
    fields = _ids(body["questions"], "field")
    assert "history.iv_drug_use" in fields  # would make it urgent
    assert "history.ankylosing_spondylitis" not in fields  # only routine: not a raise


def test_warnings_name_fields_and_fill_the_message(assessor: Assessor) -> None:
    body = assessor.assess({"age": 30, "last_pop_minutes_ago": 5, "duration_days": 21})
    assert body["warnings"] == [
        {
            "code": "pop_timing_conflict",
            "message": "You said your back popped 5 minutes ago, but also that it has not "
            "popped for 21 days. Please check both answers.",
            "fields": ["last_pop_minutes_ago", "duration_days"],
        }
    ]


def test_a_fact_of_the_wrong_type_is_an_error_not_a_no(assessor: Assessor) -> None:
    with pytest.raises(EvaluationError):
        assessor.assess({"age": 40, "neuro": {"saddle_numbness": "yes"}})


def test_describe_lists_every_contract_id_with_a_label(assessor: Assessor) -> None:
    body = assessor.describe()
    assert {"name", "version", "digest", "tables", "vocabulary"} <= set(body)
    vocabulary = body["vocabulary"]
    contract = {
        "urgency": set(URGENCY_LEVELS),
        "red_flags": {
            "cauda_equina",
            "neurological_deficit",
            "fracture",
            "infection",
            "malignancy",
        },
        "causes": {
            "refractory_period",
            "muscle_guarding",
            "reduced_flexibility",
            "joint_restriction",
            "facet_osteoarthritis",
            "disc_problem",
            "nerve_root_irritation",
            "inflammatory_back_pain",
            "osteoporosis",
        },
        "recommendations": {
            "cat_cow",
            "supine_twist",
            "knee_to_chest",
            "childs_pose",
            "pelvic_tilt",
            "heat_therapy",
            "movement_breaks",
            "regular_activity",
            "wait_before_retrying",
            "avoid_forceful_manipulation",
            "safety_net",
            "physical_therapist",
            "chiropractor",
            "primary_care",
            "rheumatology",
            "urgent_care",
            "emergency_department",
        },
    }
    for kind, ids in contract.items():
        listed = {entry["id"]: entry for entry in vocabulary[kind]}
        assert ids <= set(listed), kind
        assert all(entry["label"] for entry in listed.values()), kind
    assert [u["rank"] for u in vocabulary["urgency"]] == [0, 1, 2, 3, 4]


# --- a ruleset the pipeline cannot serve is refused at load time --------------------------
def _copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _edit_catalog(rules: Path, edit: Any) -> None:
    path = rules / "catalog.yaml"
    catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(catalog)
    path.write_text(yaml.safe_dump(catalog, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda c: c.pop("general"), "disclaimer", id="missing_disclaimer_is_refused"),
        pytest.param(
            lambda c: c["questions"].pop("neuro.saddle_numbness"),
            "neuro.saddle_numbness",
            id="missing_question_text_is_refused",
        ),
        pytest.param(
            lambda c: c["recommendations"]["cat_cow"].pop("dose"),
            "cat_cow",
            id="recommendation_without_a_dose_is_refused",
        ),
        pytest.param(
            lambda c: c["recommendations"]["primary_care"].update(dose={"reps": 1}),
            "primary_care",
            id="a_dose_on_a_referral_is_refused",
        ),
        pytest.param(
            lambda c: c["causes"]["disc_problem"].update(explains=["nope"]),
            "explains must list red flag ids",
            id="a_cause_explaining_an_unknown_flag_is_refused",
        ),
        pytest.param(
            lambda c: c["red_flags"]["infection"].pop("explanation"),
            "red_flags 'infection' needs an explanation",
            id="a_red_flag_without_an_explanation_is_refused",
        ),
        pytest.param(
            lambda c: c["red_flags"]["fracture"].pop("explanation_weak"),
            "rf_fx_over_70_new_pain: weak_alone",
            id="a_weak_rule_needs_the_flags_weak_explanation",
        ),
        pytest.param(
            lambda c: c["general"]["while_questions_open"].update(x="missing"),
            "'x', which is not a reason",
            id="an_all_clear_swap_must_name_reasons",
        ),
    ],
)
def test_a_catalog_the_assessment_cannot_serve_is_refused(
    tmp_path: Path, edit: Callable[[dict[str, Any]], Any], message: str
) -> None:
    """Each edit breaks one thing the assessment needs of the catalog; loading names it."""
    rules = _copy_rules(tmp_path)
    _edit_catalog(rules, edit)
    with pytest.raises(RuleError, match=message):
        load_assessor(rules)


def test_urgency_table_must_stay_complete(tmp_path: Path) -> None:
    rules = _copy_rules(tmp_path)
    path = rules / "tables" / "urgency.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("complete: true", "complete: false"),
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match="complete"):
        load_assessor(rules)


def test_a_list_answer_reads_as_words(assessor: Assessor) -> None:
    body = assessor.assess({"age": 29, "muscles": {"tight": ["lower_back", "hips", "core"]}})
    guarding = next(c for c in body["causes"] if c["id"] == "muscle_guarding")
    assert guarding["explanation"].startswith(
        "You said these parts feel tight: lower back, hips and core."
    )


def test_a_text_quoting_an_untested_answer_is_refused(tmp_path: Path) -> None:
    rules = _copy_rules(tmp_path)
    # "fever" is given by rf_inf_fever, which tests only systemic.fever, not the pain level.
    _edit_catalog(rules, lambda c: c["reasons"].update(fever="Fever with pain {pain.level}."))
    with pytest.raises(RuleError, match="rf_inf_fever: text quotes 'pain.level'"):
        load_assessor(rules)


def test_describe_hands_out_a_copy(assessor: Assessor) -> None:
    assessor.describe()["vocabulary"]["urgency"].clear()
    assert len(assessor.describe()["vocabulary"]["urgency"]) == 5


def _uncatalogued(rules: Path, name: str, output: str, value: str, rule_id: str) -> None:
    """Let ``rule_id`` of table ``name`` give ``value`` for ``output``, which the catalog has
    no entry for (tables that read the output are told about the new value)."""
    for path in (rules / "tables").glob("*.yaml"):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        if table["table"] == name:
            spec = next(out for out in table["outputs"] if out["name"] == output)
            spec.pop("catalog", None)
            spec["values"].append(value)
            rule = next(rule for rule in table["rules"] if rule["id"] == rule_id)
            rule["then"][output] = value
        for spec in table["inputs"]:
            if spec["name"] == f"{name}.{output}":
                spec["values"].append(value)
        path.write_text(yaml.safe_dump(table, sort_keys=False), encoding="utf-8")


def test_an_id_without_a_catalog_entry_is_refused_at_load(tmp_path: Path) -> None:
    # Else the first request that matched the rule would fail looking up its label.
    rules = _copy_rules(tmp_path)
    _uncatalogued(rules, "red_flags", "flag", "spinal_tumour", "rf_ces_saddle_numbness")
    with pytest.raises(RuleError, match="rf_ces_saddle_numbness: flag 'spinal_tumour' has no"):
        load_assessor(rules)


def test_a_red_flag_level_outside_the_urgency_levels_is_refused_at_load(tmp_path: Path) -> None:
    rules = _copy_rules(tmp_path)
    _uncatalogued(rules, "red_flags", "level", "critical", "rf_ces_saddle_numbness")
    with pytest.raises(RuleError, match="rf_ces_saddle_numbness: level must be an urgency level"):
        load_assessor(rules)


def test_fired_lists_every_match_in_table_then_match_order(assessor: Assessor) -> None:
    request = {"age": 60, "duration_days": 10, "pain": {"level": 9, "worse_at_night": True}}
    fired: list[tuple[str, str]] = []
    body = assessor.assess(request, fired=fired, explain=True)
    assert fired == [
        (step["table"], match["rule"]) for step in body["trace"] for match in step["matched"]
    ]
    assert len(fired) > 5


def test_a_cause_score_that_is_not_a_number_is_refused_at_load(tmp_path: Path) -> None:
    rules = _copy_rules(tmp_path)
    path = rules / "tables" / "causes.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(out for out in table["outputs"] if out["name"] == "score")["default"] = None
    del next(r for r in table["rules"] if r["id"] == "cause_refractory_recent_pop")["then"]["score"]
    path.write_text(yaml.safe_dump(table, sort_keys=False), encoding="utf-8")
    with pytest.raises(RuleError, match="cause_refractory_recent_pop: score must be a number"):
        load_assessor(rules)


def test_a_recommendation_named_like_a_type_is_refused(tmp_path: Path) -> None:
    """A contraindication blocks by id or by type, so an id that is also a type name would
    be ambiguous (and the assembly keeps chosen ids with the blocked names)."""
    rules = _copy_rules(tmp_path)

    def rename(catalog: dict[str, Any]) -> None:
        catalog["recommendations"]["therapy"] = catalog["recommendations"]["cat_cow"]

    _edit_catalog(rules, rename)
    with pytest.raises(RuleError, match="'therapy' has the name of a type"):
        load_assessor(rules)


def test_recommendation_types_listed_in_their_order(assessor: Assessor) -> None:
    """One list per type, concatenated in RECOMMENDATION_TYPES order, whatever the table's
    order of matches."""
    ranks = {kind: i for i, kind in enumerate(("referral", "precaution", "therapy", "stretch"))}
    for body in (
        assessor.assess({"age": 40, "pain": {"level": 9, "radiates_to_leg": True}}),
        assessor.assess({"age": 35, "muscles": {"tight": ["hips"]}, "duration_days": 3}),
    ):
        kinds = [ranks[rec["type"]] for rec in body["recommendations"]]
        assert kinds == sorted(kinds)


# v1.1: the catalog's new declarations are checked at load ---------------------------------


@pytest.mark.parametrize(
    ("dose", "message"),
    [
        ({"reps": 10, "hold_secs": 3}, "unknown dose key 'hold_secs'"),
        ({"reps": 0}, "dose reps must be a whole number"),
        ({"reps": 2.5}, "dose reps must be a whole number"),
        ({"reps": True}, "dose reps must be a whole number"),
    ],
)
def test_a_dose_with_an_unknown_key_or_a_bad_count_is_refused(
    tmp_path: Path, dose: dict[str, Any], message: str
) -> None:
    rules = _copy_rules(tmp_path)
    _edit_catalog(rules, lambda c: c["recommendations"]["cat_cow"].update(dose=dose))
    with pytest.raises(RuleError, match=message):
        load_assessor(rules)


@pytest.mark.parametrize(
    ("follows", "message"),
    [
        ("neuro.not_a_field", "follows 'neuro.not_a_field', which has no question"),
        ("pain.level", "which is not a yes/no question"),
        ("neuro.weakness_worsening", "follows itself"),
        ([], "follows must name"),
    ],
)
def test_a_follow_up_with_a_bad_lead_is_refused(tmp_path: Path, follows: Any, message: str) -> None:
    rules = _copy_rules(tmp_path)

    def edit(catalog: dict[str, Any]) -> None:
        catalog["questions"]["neuro.weakness_worsening"]["follows"] = follows
        # A cycle through a second question: the lead follows its own follow-up.
        if follows == "neuro.weakness_worsening":
            catalog["questions"]["neuro.weakness_worsening"]["follows"] = "neuro.leg_weakness"
            catalog["questions"]["neuro.leg_weakness"] = {
                "text": "Does a leg feel weak?",
                "follows": "neuro.weakness_worsening",
            }

    _edit_catalog(rules, edit)
    with pytest.raises(RuleError, match=message):
        load_assessor(rules)


def test_follow_ups_are_declared_data_that_can_be_read() -> None:
    """The lead of each follow-up is data on ``Prepared`` (for typed questions and FHIR
    ``enableWhen`` later), not names in the code."""
    follows = load_assessor(DEFAULT_RULES_DIR).prepared.follows
    assert follows["pain.below_knee"] == ("pain.radiates_to_leg",)
    assert follows["neuro.weakness_worsening"] == ("neuro.leg_weakness",)
    assert follows["history.active_cancer"] == ("history.cancer",)
    assert "neuro.gait_change" in follows["neuro.both_legs"]
