"""A small lexicon for reading popcheck's texts the way a person would: which drugs and brands
must never appear, how strongly a sentence tells the person to seek care, and which reported
signs it names. Shared by the static catalog audit (``tests/unit/test_catalog_texts.py``) and
the property test of invariant 15 (``tests/property/test_invariants.py``).

The lexicon is deliberately written against the contract's words, not the catalog's: a new
text that says "go to A&E" or "call an ambulance" is read as an emergency instruction too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

LEVELS: Final = ("self_care", "routine", "soon", "urgent", "emergency")
RANK: Final = {level: rank for rank, level in enumerate(LEVELS)}

# Drug names and brands: never in any text, questions included.
DRUGS_AND_BRANDS: Final = re.compile(
    r"\b(ibuprofen|paracetamol|acetaminophen|naproxen|aspirin|diclofenac|codeine|opioids?"
    r"|tramadol|morphine|gabapentin|pregabalin|amitriptyline|duloxetine|prednisolone"
    r"|nsaids?|co-codamol|nurofen|advil|motrin|aleve|tylenol|panadol|voltaren|voltarol"
    r"|deep heat|tiger balm|thermacare|ibuleve|solpadeine)\b",
    re.IGNORECASE,
)
# Kinds of medicine: a question may ask what the person took (asked, never advised); no
# other text may name one.
MEDICINE_WORDS: Final = re.compile(
    r"\b(pain ?killers?|anti-inflammator(y|ies)|medicines?|medications?|tablets?|pills?"
    r"|steroids?|antibiotics?|cream|gel)\b",
    re.IGNORECASE,
)

# How strongly a sentence tells the person to seek care.
_SEEK: Final = (
    ("emergency", re.compile(
        r"emergency department|emergency number|\bA&E\b|\b999\b|\b911\b|ambulance"
        r"|straight away|\bgo now\b|help now|right away|immediately",
        re.IGNORECASE,
    )),
    ("urgent", re.compile(r"\btoday\b|same day|within 24 hours|urgent care", re.IGNORECASE)),
    ("soon", re.compile(r"within a day or two|within (the next few )?days", re.IGNORECASE)),
)  # fmt: skip

# A sign a sentence can name, and the answers that report it: any one of the alternatives
# (each a set of fields answered "yes") is enough. Weakness and numbness on their own are not
# listed: the texts name them as parts of a sign ("in both legs", "around your private
# parts"), which the entries below read.
SIGNS: Final[tuple[tuple[re.Pattern[str], tuple[tuple[str, ...], ...]], ...]] = (
    (re.compile(r"private parts|inner thighs|saddle", re.I), (("neuro.saddle_numbness",),)),
    (
        re.compile(r"peeing|pooing|bladder|bowel", re.I),
        (
            ("neuro.bladder_or_bowel_change",),
            ("neuro.urinary_retention",),
            ("neuro.incontinence",),
        ),
    ),
    (
        re.compile(r"both legs", re.I),
        (
            ("neuro.both_legs", "neuro.leg_weakness"),
            ("neuro.both_legs", "neuro.numbness"),
            ("neuro.both_legs", "pain.radiates_to_leg"),
        ),
    ),
    (re.compile(r"\bfever\b|hot and shivery", re.I), (("systemic.fever",),)),
    (re.compile(r"very unwell|confused|out of breath|clammy", re.I), (("systemic.feels_very_unwell",),)),  # noqa: E501
    (re.compile(r"\bfaint(ed|ing)?\b|collapse", re.I), (("systemic.fainted",),)),
    (re.compile(r"pulsing|throbbing", re.I), (("systemic.abdominal_pulsing",),)),
    (re.compile(r"belly", re.I), (("pain.abdominal",),)),
)  # fmt: skip

# "If it gets worse" is advice to act on a change, which invariant 15 allows.
_CHANGE: Final = re.compile(r"\b(gets? worse|getting worse|spreads?|changes?)\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """A text split into sentences (and the clauses a semicolon list holds together)."""
    return [part for part in re.split(r"(?<=[.?!])\s+", " ".join(text.split())) if part]


def seek_level(sentence: str) -> str | None:
    """The strongest seek-care instruction in ``sentence``, or ``None``."""
    for level, pattern in _SEEK:
        if pattern.search(sentence):
            return level
    return None


def named_signs(sentence: str) -> list[tuple[tuple[str, ...], ...]]:
    """The signs ``sentence`` names, unless it only speaks of a change in them."""
    if _CHANGE.search(sentence):
        return []
    return [alternatives for pattern, alternatives in SIGNS if pattern.search(sentence)]


def reported(request: Mapping[str, Any], fields: tuple[str, ...]) -> bool:
    """Every field in ``fields`` was answered "yes" in ``request``."""
    for path in fields:
        section, _, name = path.rpartition(".")
        holder = request.get(section) if section else request
        if not isinstance(holder, Mapping) or holder.get(name) is not True:
            return False
    return True


def response_texts(body: Mapping[str, Any]) -> Iterator[str]:
    """Every text of an assessment a person reads as advice or explanation."""
    yield body["urgency"]["seek_care"]
    yield from body["urgency"]["reasons"]
    for flag in body["red_flags"]:
        yield flag["explanation"]
    for cause in body["causes"]:
        yield cause["explanation"]
    for rec in body["recommendations"]:
        yield rec["instructions"]
        yield rec["reason"]
    yield body["disclaimer"]
