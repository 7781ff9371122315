"""Every text the ruleset can return, read the way a person reads it (invariant 15 and the
"never do" list of v1.1): no drug or brand names, no kind of medicine outside the questions
that ask about one, and no instruction to seek care more urgently than the level a person
who reported that sign gets.

The seek-care check is static: a sentence that says "go to an emergency department" beside a
sign is only allowed if reporting that sign alone already gives an emergency. Reporting more
never lowers the level (invariant 3), so then every response that shows the sentence to a
person who reported the sign is at that level too. The property test of invariant 15
(``tests/property/test_invariants.py``) checks the same on generated responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from popcheck.assessment import Assessor, load_assessor
from popcheck.config import DEFAULT_RULES_DIR
from tests.support.texts import (
    DRUGS_AND_BRANDS,
    MEDICINE_WORDS,
    RANK,
    named_signs,
    seek_level,
    sentences,
)

ASSESSOR: Assessor = load_assessor(DEFAULT_RULES_DIR)
CATALOG: Any = ASSESSOR.ruleset.catalog


def _returnable() -> Iterator[tuple[str, str]]:
    """Every text the service can put in a response or in ``GET /rules``, by catalog key."""
    general = CATALOG["general"]
    yield "general.disclaimer", general["disclaimer"]
    yield "general.cause_beside_red_flag", general["cause_beside_red_flag"]
    for level, entry in CATALOG["urgency"].items():
        yield f"urgency.{level}.label", entry["label"]
        yield f"urgency.{level}.seek_care", entry["seek_care"]
    for section, keys in (
        ("red_flags", ("label", "explanation", "explanation_weak")),
        ("causes", ("label", "explanation")),
        ("recommendations", ("label", "instructions")),
    ):
        for item, entry in CATALOG[section].items():
            for key in keys:
                if key in entry:
                    yield f"{section}.{item}.{key}", entry[key]
    for code, entry in CATALOG["warnings"].items():
        yield f"warnings.{code}", entry["message"]
    for key, text in CATALOG["reasons"].items():
        yield f"reasons.{key}", text
    for field, entry in CATALOG["questions"].items():
        yield f"questions.{field}", entry["text"] if isinstance(entry, dict) else entry


TEXTS = dict(_returnable())


def _level_of(fields: tuple[str, ...]) -> int:
    request: dict[str, Any] = {"age": 40}
    for path in fields:
        section, _, name = path.rpartition(".")
        request.setdefault(section, {})[name] = True
    return int(ASSESSOR.assess(request)["urgency"]["rank"])


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_no_drug_or_brand_names(key: str) -> None:
    found = DRUGS_AND_BRANDS.search(TEXTS[key])
    assert not found, (key, found.group(0))


@pytest.mark.parametrize("key", sorted(k for k in TEXTS if not k.startswith("questions.")))
def test_no_medicine_outside_the_questions_that_ask_about_it(key: str) -> None:
    """Only a question may name a kind of medicine (what the person took); a reason may
    repeat that answer ("steroid tablets for months") but no text advises one."""
    found = MEDICINE_WORDS.search(TEXTS[key])
    if found and key.startswith("reasons."):
        # A reason restates an answer; it never tells the person to take anything.
        assert not any(w in TEXTS[key].lower() for w in ("take ", "use ", "try ")), key
        return
    assert not found, (key, found.group(0) if found else None)


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_no_seek_care_stronger_than_the_level_of_a_sign_named_beside_it(key: str) -> None:
    for sentence in sentences(TEXTS[key]):
        level = seek_level(sentence)
        if level is None:
            continue
        for alternatives in named_signs(sentence):
            for fields in alternatives:
                got = _level_of(fields)
                assert got >= RANK[level], (
                    f"{key}: {sentence!r} says {level} for {fields}, which alone gives rank {got}"
                )


def test_the_v10_safety_net_sentence_would_fail() -> None:
    """Guards the lexicon: the 1.0 safety net told a person with a fever to go now."""
    old = (
        "Go to an emergency department straight away if you get any of these: numbness "
        "around your private parts, bottom or inner thighs; or a fever with back pain."
    )
    (sentence,) = sentences(old)
    assert seek_level(sentence) == "emergency"
    assert any(
        _level_of(fields) < RANK["emergency"]
        for alternatives in named_signs(sentence)
        for fields in alternatives
    )


def test_red_flag_explanations_never_say_how_soon() -> None:
    """How soon is the urgency's job: a flag can come at several levels."""
    for flag, entry in CATALOG["red_flags"].items():
        for key in ("explanation", "explanation_weak"):
            for sentence in sentences(entry.get(key, "")):
                assert seek_level(sentence) is None, (flag, sentence)


def test_no_text_assumes_one_leg() -> None:
    """A cause or a reason can be shown to a person with symptoms in both legs."""
    for key, text in TEXTS.items():
        if key.startswith(("causes.", "reasons.", "red_flags.")):
            assert "one leg" not in text.lower(), key
