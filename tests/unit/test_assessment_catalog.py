"""The shipped rules as content: sources, placeholders and the texts a person reads.

These hold the authoring rules of issue 4 that no engine check can: every rule names its
guideline, every placeholder is an answer its rule tested, and the texts stay plain, in the
second person, free of drugs, brands and diagnoses.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

import pytest

from popcheck.assessment import Assessor, load_assessor
from popcheck.config import DEFAULT_RULES_DIR

# The source keys of clinical-notes.md, plus "seed" for the article.
SOURCES = {
    "NG59", "NG65", "NG234", "ACP17", "ASAS", "CKS-CES", "BP-CES", "CKS-RF", "CRF23", "H09",
    "D13", "AJEM19", "ALIEM", "RDS-RAD", "RCGP-SCI", "TFF", "SWAIT17", "U71", "seed",
    "GIRFT-CES", "CG75", "NG51", "NHS-AAA", "CKS-SCI",
}  # fmt: skip
# Drugs and brands a back-pain text might slip in; none may appear.
BANNED = re.compile(
    r"\b(ibuprofen|paracetamol|acetaminophen|naproxen|aspirin|diclofenac|codeine|opioid"
    r"|tramadol|painkiller|pain ?killers?|medication|medicine|pills?|nsaids?|tylenol|advil"
    r"|motrin|aleve|voltaren|deep heat|tiger balm|thermacare|tens|corset|traction)\b",
    re.IGNORECASE,
)
# Questions may name a kind of medicine the person took (the NG65 question about
# anti-inflammatory painkillers: asked, never advised), but never a drug or a brand.
BANNED_IN_QUESTIONS = re.compile(
    r"\b(ibuprofen|paracetamol|acetaminophen|naproxen|aspirin|diclofenac|codeine|opioid"
    r"|tramadol|nsaids?|tylenol|advil|motrin|aleve|voltaren|nurofen|deep heat|tiger balm"
    r"|thermacare)\b",
    re.IGNORECASE,
)
STRETCHES = ("cat_cow", "supine_twist", "knee_to_chest", "childs_pose", "pelvic_tilt")

ASSESSOR: Assessor = load_assessor(DEFAULT_RULES_DIR)
CATALOG: Any = ASSESSOR.ruleset.catalog
RULES = [(table, rule) for table in ASSESSOR.ruleset.tables for rule in table.rules]


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _texts() -> Iterator[tuple[str, str]]:
    yield "general.disclaimer", CATALOG["general"]["disclaimer"]
    yield "general.cause_beside_red_flag", CATALOG["general"]["cause_beside_red_flag"]
    for level, entry in CATALOG["urgency"].items():
        yield f"urgency.{level}", f"{entry['label']}. {entry['seek_care']}"
    for section in ("red_flags", "causes", "recommendations"):
        for key, entry in CATALOG[section].items():
            for name in ("label", "explanation", "explanation_weak", "instructions"):
                if name in entry:
                    yield f"{section}.{key}.{name}", entry[name]
    for key, entry in CATALOG["questions"].items():
        yield f"questions.{key}", entry["text"] if isinstance(entry, dict) else entry
    for key, entry in CATALOG["warnings"].items():
        yield f"warnings.{key}", entry["message"]
    for key, text in CATALOG["reasons"].items():
        yield f"reasons.{key}", text


TEXTS = dict(_texts())


@pytest.mark.parametrize(("table", "rule"), RULES, ids=[r.id for _, r in RULES])
def test_every_rule_names_a_guideline_or_the_seed(table: Any, rule: Any) -> None:
    assert rule.source in SOURCES, f"{table.name}: {rule.id}: unknown source {rule.source!r}"


@pytest.mark.parametrize(("table", "rule"), RULES, ids=[r.id for _, r in RULES])
def test_placeholders_are_answers_the_rule_tested(table: Any, rule: Any) -> None:
    """A text may only quote an answer its rule tested, so the answer is never missing."""
    if "reason" in rule.outputs:
        text = CATALOG["reasons"][rule.outputs["reason"]]
    elif "code" in rule.outputs:
        text = CATALOG["warnings"][rule.outputs["code"]]["message"]
    else:
        return
    assert _placeholders(text) <= set(rule.tests), (rule.id, text)


def test_refractory_window_is_a_named_threshold() -> None:
    constants = ASSESSOR.ruleset.constants
    assert constants["refractory_window_minutes"] == 60
    causes = next(t for t in ASSESSOR.ruleset.tables if t.name == "causes")
    texts = [test.text for rule in causes.rules for test in rule.tests.values()]
    assert any("$refractory_window_minutes" in text for text in texts)


def test_one_disclaimer_not_a_diagnosis_not_for_emergencies() -> None:
    disclaimer = CATALOG["general"]["disclaimer"].lower()
    assert "not a diagnosis" in disclaimer
    assert "emergenc" in disclaimer
    others = [k for k, t in TEXTS.items() if "diagnosis" in t.lower() and k != "general.disclaimer"]
    assert not others


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_texts_are_plain_and_free_of_drugs_and_brands(key: str) -> None:
    text = " ".join(TEXTS[key].split())
    banned = BANNED_IN_QUESTIONS if key.startswith("questions.") else BANNED
    assert not banned.search(text), (key, banned.search(text))
    # Reading age ~12: short sentences. Count words per sentence.
    for sentence in re.split(r"(?<=[.?!:;])\s+", text):
        assert len(sentence.split()) <= 32, (key, sentence)


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_texts_speak_to_the_person_never_about_them(key: str) -> None:
    text = TEXTS[key].lower()
    assert not re.search(r"\b(the patient|patients|the person|the user|he|she|his|her)\b", text)
    if key.startswith(("questions.", "warnings.")):
        assert re.search(r"\b(you|your)\b", text), key


@pytest.mark.parametrize("stretch", STRETCHES)
def test_stretches_say_position_movement_breathing_duration_and_when_to_stop(
    stretch: str,
) -> None:
    entry = CATALOG["recommendations"][stretch]
    text = entry["instructions"].lower()
    assert entry["type"] == "stretch"
    assert re.search(r"\b(lie|kneel|get down|sit|stand)\b", text), "a starting position"
    assert "breath" in text, "how to breathe"
    assert "stop if" in text, "when to stop"
    dose = entry["dose"]
    assert dose["reps"] > 0 and dose["hold_seconds"] > 0 and dose["times_per_day"] > 0


def test_every_catalog_id_can_be_returned() -> None:
    """No orphan texts: each catalog id is a value some table can output (or a field)."""
    outputs: dict[str, set[str]] = {}
    for table in ASSESSOR.ruleset.tables:
        for out in table.outputs:
            if out.catalog:
                outputs.setdefault(out.catalog, set()).update(out.values)
    used_reasons = {str(r.outputs["reason"]) for _, r in RULES if "reason" in r.outputs}
    used_reasons |= set(CATALOG["general"]["while_questions_open"].values())
    assert set(CATALOG["reasons"]) == used_reasons
    for section in ("red_flags", "causes", "recommendations", "warnings", "urgency"):
        assert set(CATALOG[section]) == outputs[section], section
