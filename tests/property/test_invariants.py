"""The API contract's invariants, held over generated valid requests (hypothesis).

Requests are generated from ``popcheck.facts.FACTS`` (so every field of the contract is
exercised with its own type and range) with each field absent, ``null`` or answered; numbers
lean towards the ruleset's named thresholds, where a wrong ``<`` versus ``<=`` would hide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from popcheck.assessment import URGENCY_LEVELS, Assessor, load_assessor
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.engine import FactType
from popcheck.facts import DERIVED_SOURCES, FACTS, REQUEST_FIELDS
from tests.support import texts

ASSESSOR: Assessor = load_assessor(DEFAULT_RULES_DIR)
RANK = {level: rank for rank, level in enumerate(URGENCY_LEVELS)}
STRETCHES = {"cat_cow", "supine_twist", "knee_to_chest", "childs_pose", "pelvic_tilt"}
BOOL_FIELDS = tuple(f for f in REQUEST_FIELDS if FACTS[f].type is FactType.BOOL)
BOUNDED = settings(max_examples=200, deadline=None)

_ABSENT = object()


def _thresholds() -> list[float]:
    """Every named constant and its neighbours: where an off-by-one would live."""
    values: set[float] = set()
    for value in ASSESSOR.ruleset.constants.values():
        values.update({value - 1, value, value + 1})
    return sorted(values)


_NEAR = _thresholds()


def _value(field: str) -> st.SearchStrategy[Any]:
    spec = FACTS[field]
    match spec.type:
        case FactType.BOOL:
            return st.booleans()
        case FactType.ENUM:
            return st.sampled_from(spec.values)
        case FactType.ENUM_LIST:
            return st.lists(st.sampled_from(spec.values), unique=True)
        case FactType.INT:
            assert spec.range is not None
            lo, hi = int(spec.range[0]), int(spec.range[1])
            near = [int(v) for v in _NEAR if lo <= v <= hi and float(v).is_integer()]
            return st.one_of(st.integers(lo, hi), st.sampled_from(near or [lo]))
        case FactType.NUMBER:
            assert spec.range is not None
            lo_f, hi_f = spec.range
            near_f = [v for v in _NEAR if lo_f <= v <= hi_f]
            return st.one_of(
                st.floats(lo_f, hi_f, allow_nan=False), st.sampled_from(near_f or [lo_f])
            )
    raise AssertionError(f"no strategy for {field}")  # pragma: no cover


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {}
    for path, value in flat.items():
        if value is _ABSENT:
            continue
        if "." in path:
            section, name = path.split(".", 1)
            request.setdefault(section, {})[name] = value
        else:
            request[path] = value
    return request


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request: age always answered, every other field absent, null or a value."""
    flat: dict[str, Any] = {"age": draw(_value("age"))}
    for field in REQUEST_FIELDS:
        if field == "age":
            continue
        flat[field] = draw(st.one_of(st.just(_ABSENT), st.none(), _value(field)))
    return _nest(flat)


def _with(request: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``request`` with ``path`` set to ``value`` (``_ABSENT`` removes it)."""
    copy = {k: dict(v) if isinstance(v, dict) else v for k, v in request.items()}
    section, _, name = path.rpartition(".")
    target = copy.setdefault(section, {}) if section else copy
    if target is None:
        target = copy[section] = {}
    if value is _ABSENT:
        target.pop(name, None)
    else:
        target[name] = value
    return copy


def _rank(request: Mapping[str, Any]) -> int:
    return int(ASSESSOR.assess(request)["urgency"]["rank"])


def _rec_ids(body: Mapping[str, Any]) -> set[str]:
    return {r["id"] for r in body["recommendations"]}


# Checks of one assessment, one per contract invariant. They run together on each generated
# request (generating a 38-field request costs far more than assessing it).


def _one_urgency(body: Mapping[str, Any]) -> None:  # invariant 2
    urgency = body["urgency"]
    assert urgency["level"] in URGENCY_LEVELS
    assert urgency["rank"] == RANK[urgency["level"]]
    assert urgency["seek_care"] and urgency["rule"] and urgency["reasons"]


def _red_flag_floor(body: Mapping[str, Any]) -> None:  # invariants 4 and 6
    flags = {flag["id"] for flag in body["red_flags"]}
    if "cauda_equina" in flags:
        assert body["urgency"]["level"] == "emergency"
    if flags:
        assert body["urgency"]["rank"] >= RANK["soon"]
        assert not any(r["type"] == "stretch" for r in body["recommendations"])
        assert "chiropractor" not in _rec_ids(body)
    for flag in body["red_flags"]:
        assert flag["evidence"], flag
        assert set(flag["evidence"]) <= set(REQUEST_FIELDS)


def _care_first(body: Mapping[str, Any]) -> None:  # invariant 5
    level = body["urgency"]["level"]
    types = {r["type"] for r in body["recommendations"]}
    if level in ("urgent", "emergency"):
        assert "stretch" not in types
    if level == "urgent":
        assert "urgent_care" in _rec_ids(body)
    if level == "emergency":
        assert "emergency_department" in _rec_ids(body)
        assert "therapy" not in types


def _never_force(body: Mapping[str, Any]) -> None:  # invariant 7
    assert "avoid_forceful_manipulation" in _rec_ids(body)


VOCABULARY = ASSESSOR.describe()["vocabulary"]


def _listed(kind: str) -> set[str]:
    return {entry["id"] for entry in VOCABULARY[kind]}


def _every_id_listed(body: Mapping[str, Any]) -> None:  # invariant 9
    assert body["urgency"]["level"] in _listed("urgency")
    assert {f["id"] for f in body["red_flags"]} <= _listed("red_flags")
    assert {c["id"] for c in body["causes"]} <= _listed("causes")
    assert {c["likelihood"] for c in body["causes"]} <= _listed("likelihood")
    assert _rec_ids(body) <= _listed("recommendations")
    assert {w["code"] for w in body["warnings"]} <= _listed("warnings")
    assert {q["field"] for q in body["questions"]} <= _listed("questions")


def _shape(request: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    causes = body["causes"]
    keys = [(c["likelihood"] != "likely", -c["score"]) for c in causes]
    assert keys == sorted(keys), "causes are not ranked"
    assert all(0 <= c["score"] <= 1 and c["explanation"] for c in causes)
    for cause in causes:  # two matched combinations must not repeat a shared finding
        sentences = cause["explanation"].split(". ")
        assert len(sentences) == len(set(sentences)), cause["explanation"]
    assert all(set(c["evidence"]) <= set(REQUEST_FIELDS) for c in causes)
    for question in body["questions"]:
        section, _, name = question["field"].rpartition(".")
        holder = request.get(section) if section else request
        assert not isinstance(holder, dict) or holder.get(name) is None, question
    dosed = [r for r in body["recommendations"] if r["type"] in ("stretch", "therapy")]
    assert all(r["dose"] for r in dosed)
    assert all(set(w["fields"]) <= set(REQUEST_FIELDS) for w in body["warnings"])


@BOUNDED
@given(requests())
def test_every_assessment_keeps_the_contract(request: dict[str, Any]) -> None:
    body = ASSESSOR.assess(request)
    assert ASSESSOR.assess(request) == body  # invariant 1: same request, same answer
    _one_urgency(body)
    _red_flag_floor(body)
    _care_first(body)
    _never_force(body)
    _every_id_listed(body)
    _shape(request, body)


# 3 ----------------------------------------------------------------------------------------
@BOUNDED
@given(requests(), st.sampled_from(BOOL_FIELDS))
def test_answering_yes_never_lowers_urgency(request: dict[str, Any], field: str) -> None:
    yes = _rank(_with(request, field, True))
    for other in (False, None, _ABSENT):
        assert yes >= _rank(_with(request, field, other)), (field, other)


@BOUNDED
@given(requests())
def test_worse_trauma_never_lowers_urgency(request: dict[str, Any]) -> None:
    ranks = [
        _rank(_with(request, "history.recent_trauma", value))
        for value in (None, "none", "minor", "major")
    ]
    assert ranks[1] <= ranks[2] <= ranks[3]
    assert ranks[0] <= ranks[2]


# 8 ----------------------------------------------------------------------------------------
@BOUNDED
@given(requests())
def test_osteoporosis_contraindications(request: dict[str, Any]) -> None:
    body = ASSESSOR.assess(_with(request, "history.osteoporosis", True))
    assert not {"supine_twist", "knee_to_chest", "chiropractor"} & _rec_ids(body)


@pytest.mark.parametrize("level", URGENCY_LEVELS)
def test_generator_reaches_every_level(level: str) -> None:
    """Guards the strategy: one that never produced, say, an emergency would make the
    invariants above hold vacuously for it."""
    found = find(
        requests(),
        lambda r: ASSESSOR.assess(r)["urgency"]["level"] == level,
        # Generate only: the first hit is enough, shrinking it would cost seconds.
        settings=settings(
            max_examples=2000,
            deadline=None,
            database=None,
            phases=(Phase.generate,),
            derandomize=True,
        ),
    )
    assert ASSESSOR.assess(found)["urgency"]["level"] == level


# v1.1 ------------------------------------------------------------------------------------
# Invariants 10 to 16 of the contract's v1.1 additions, over the same generated requests (the
# generator reads REQUEST_FIELDS, so it answers the v1.1 fields too).

_NO_HEAT_FLAGS = {"infection", "cauda_equina", "neurological_deficit", "malignancy"}
# Invariant 13 as the contract states it (not as the catalog declares it, so that a wrong
# declaration fails here): a follow-up and the leads that must not all be "no".
_FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "pain.below_knee": ("pain.radiates_to_leg",),
    "neuro.weakness_worsening": ("neuro.leg_weakness",),
    "neuro.both_legs": (
        "pain.radiates_to_leg",
        "neuro.numbness",
        "neuro.tingling",
        "neuro.leg_weakness",
        "neuro.gait_change",
    ),
    "history.active_cancer": ("history.cancer",),
}
CATALOG = ASSESSOR.ruleset.catalog
_EXPLAINS = {cause: set(entry.get("explains", ())) for cause, entry in CATALOG["causes"].items()}
# What a reason may not say while a question that could raise the level is open.
_ALL_CLEAR = ("none of your answers", "nothing serious", "no serious", "no sign")


def _answer(request: Mapping[str, Any], path: str) -> Any:
    section, _, name = path.rpartition(".")
    holder = request.get(section) if section else request
    return holder.get(name) if isinstance(holder, dict) else None


def _suppressed(request: Mapping[str, Any], field: str) -> bool:
    leads = _FOLLOW_UPS.get(field)
    return bool(leads) and all(_answer(request, lead) is False for lead in leads)


def _care_before_comfort(body: Mapping[str, Any]) -> None:  # invariants 10 and 11
    ids = _rec_ids(body)
    if body["urgency"]["level"] in ("urgent", "emergency"):
        assert not any(r["type"] == "therapy" for r in body["recommendations"])
    flags = {flag["id"] for flag in body["red_flags"]}
    if flags & _NO_HEAT_FLAGS:
        assert "heat_therapy" not in ids
    if "infection" in flags:
        assert not {"regular_activity", "movement_breaks"} & ids


def _causes_beside_flags(body: Mapping[str, Any]) -> None:  # invariant 12
    flags = {flag["id"] for flag in body["red_flags"]}
    assert all(flag["explanation"] for flag in body["red_flags"])
    if flags and body["urgency"]["rank"] >= RANK["soon"]:
        for cause in body["causes"]:
            if cause["likelihood"] == "likely":
                assert flags <= _EXPLAINS[cause["id"]], (cause["id"], flags)


def _no_denied_follow_ups(request: Mapping[str, Any], body: Mapping[str, Any]) -> None:  # 13
    for question in body["questions"]:
        assert not _suppressed(request, question["field"]), question["field"]


def _no_all_clear_while_asking(body: Mapping[str, Any]) -> None:  # invariant 16
    if body["questions"]:
        for reason in body["urgency"]["reasons"]:
            assert not any(words in reason.lower() for words in _ALL_CLEAR), reason


def _no_stronger_than_the_level(request: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Invariant 15: no text tells the person to seek care at a level above the response's
    own for a sign they have already reported (advice about a change is allowed)."""
    rank = body["urgency"]["rank"]
    for text in texts.response_texts(body):
        for sentence in texts.sentences(text):
            level = texts.seek_level(sentence)
            if level is None or texts.RANK[level] <= rank:
                continue
            for alternatives in texts.named_signs(sentence):
                for fields in alternatives:
                    assert not texts.reported(request, fields), (sentence, fields, rank)


def _doses(body: Mapping[str, Any]) -> None:
    for rec in body["recommendations"]:
        detail = rec["dose_detail"]
        if rec["type"] in ("stretch", "therapy"):
            assert detail is not None and set(detail) == {
                "reps", "hold_seconds", "sets", "times_per_day", "minutes", "days_per_week"
            }  # fmt: skip
            assert any(detail.values())
        else:
            assert detail is None and rec["dose"] is None


@BOUNDED
@given(requests())
def test_every_assessment_keeps_the_v11_invariants(request: dict[str, Any]) -> None:
    body = ASSESSOR.assess(request)
    _care_before_comfort(body)
    _causes_beside_flags(body)
    _no_denied_follow_ups(request, body)
    _no_all_clear_while_asking(body)
    _no_stronger_than_the_level(request, body)
    _doses(body)


# 14 ---------------------------------------------------------------------------------------
def _red_flag_fields() -> tuple[str, ...]:
    """The request fields the red flag rules read (a derived fact stands for its sources)."""
    table = next(t for t in ASSESSOR.ruleset.tables if t.name == "red_flags")
    fields: dict[str, None] = {}
    for rule in table.rules:
        for name in rule.tests:
            for field in DERIVED_SOURCES.get(name, (name,)):
                if field != "age":  # required: never unanswered
                    fields[field] = None
    return tuple(fields)


RED_FLAG_FIELDS = _red_flag_fields()


def _answers(field: str) -> list[Any]:
    """Every answer worth trying: both booleans, every enum value, each number threshold."""
    spec = FACTS[field]
    match spec.type:
        case FactType.BOOL:
            return [False, True]
        case FactType.ENUM:
            return list(spec.values)
        case FactType.ENUM_LIST:
            return [[], list(spec.values)]
    assert spec.range is not None
    lo, hi = spec.range
    near = {v for v in _NEAR if lo <= v <= hi} | {lo, hi}
    if spec.type is FactType.INT:
        return sorted({int(v) for v in near if float(v).is_integer()})
    return sorted(near)


def test_the_red_flag_fields_include_the_v11_signs() -> None:
    assert {"neuro.gait_change", "history.active_cancer", "systemic.abdominal_pulsing"} <= set(
        RED_FLAG_FIELDS
    )


@BOUNDED
@given(requests(), st.sampled_from(RED_FLAG_FIELDS))
def test_an_unanswered_field_never_lowers_the_level_and_is_asked(
    request: dict[str, Any], field: str
) -> None:
    """Invariant 14: unanswered gives a level no lower than the most benign answer, and
    where some answer would raise the level, the field is asked (unless invariant 13
    suppresses it)."""
    unanswered = _with(request, field, None)
    body = ASSESSOR.assess(unanswered)
    rank = body["urgency"]["rank"]
    ranks = [_rank(_with(request, field, answer)) for answer in _answers(field)]
    assert rank >= min(ranks), (field, rank, ranks)
    if max(ranks) > rank and not _suppressed(unanswered, field):
        asked = {question["field"] for question in body["questions"]}
        assert field in asked, (field, rank, ranks)
