"""The facts the rule tables can read: every request field, flattened, plus a few derived facts.

``FACTS`` declares each fact's type (the engine's static checker uses it to reject a table that
reads an unknown fact or compares it with a literal that cannot fit). ``to_facts`` turns the
validated, nested request into the flat mapping the engine evaluates. A fact that is ``None`` is
*unanswered*: the tables never treat a missing answer as a "no".

Derived facts are computed here only when a table cannot express them (arithmetic across two
answers). Counting criteria, such as the ASAS items, is done by a table instead, where a
clinical reviewer can read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Final

from service.engine import FactSpec, FactType

__all__ = ["DERIVED_SOURCES", "FACTS", "REQUEST_FIELDS", "UnknownFieldError", "to_facts"]

_BOOL = FactSpec(FactType.BOOL)


def _int(low: int, high: int) -> FactSpec:
    return FactSpec(FactType.INT, range=(float(low), float(high)))


# Request fields, in the order of the API contract. Ranges and enums mirror the contract exactly,
# so a table cannot test a value the schema would have rejected.
_REQUEST: dict[str, FactSpec] = {
    "age": _int(16, 120),
    "last_pop_minutes_ago": _int(0, 52_560_000),
    "duration_days": _int(0, 36_500),
    "onset": FactSpec(FactType.ENUM, values=("sudden", "gradual")),
    "pain.level": _int(0, 10),
    "pain.radiates_to_leg": _BOOL,
    "pain.below_knee": _BOOL,
    "pain.worse_at_night": _BOOL,
    "pain.worse_with_rest": _BOOL,
    "pain.eased_lying_down": _BOOL,
    "neuro.numbness": _BOOL,
    "neuro.tingling": _BOOL,
    "neuro.leg_weakness": _BOOL,
    "neuro.weakness_worsening": _BOOL,
    "neuro.both_legs": _BOOL,
    "neuro.saddle_numbness": _BOOL,
    "neuro.bladder_or_bowel_change": _BOOL,
    "stiffness.morning_minutes": _int(0, 1440),
    "stiffness.improves_with_movement": _BOOL,
    "stiffness.range_of_motion": FactSpec(
        FactType.ENUM, values=("full", "reduced", "very_limited")
    ),
    "stiffness.localized": _BOOL,
    "muscles.tight": FactSpec(
        FactType.ENUM_LIST,
        values=("lower_back", "upper_back", "hips", "hamstrings", "glutes", "core"),
    ),
    "muscles.spasm": _BOOL,
    "lifestyle.sitting_hours_per_day": FactSpec(FactType.NUMBER, range=(0.0, 24.0)),
    "lifestyle.active_days_per_week": _int(0, 7),
    "lifestyle.repetitive_strain": _BOOL,
    "lifestyle.poor_posture": _BOOL,
    "history.recent_trauma": FactSpec(FactType.ENUM, values=("none", "minor", "major")),
    "history.osteoporosis": _BOOL,
    "history.osteoarthritis": _BOOL,
    "history.disc_problem": _BOOL,
    "history.ankylosing_spondylitis": _BOOL,
    "history.cancer": _BOOL,
    "history.long_term_steroids": _BOOL,
    "history.immunosuppressed": _BOOL,
    "history.iv_drug_use": _BOOL,
    "systemic.fever": _BOOL,
    "systemic.unexplained_weight_loss": _BOOL,
}

_LEG_SYMPTOMS: Final = (
    "pain.radiates_to_leg",
    "pain.below_knee",
    "neuro.numbness",
    "neuro.tingling",
    "neuro.leg_weakness",
)

_DAYS_PER_YEAR: Final = 365.25

# Derived facts. The onset-age range follows from the request ranges: 16 - 36500/365.25 ~ -84.
_DERIVED: dict[str, FactSpec] = {
    # ASAS: "age at onset" is today's age minus how long the problem has lasted.
    "onset_age": FactSpec(FactType.NUMBER, range=(-84.0, 120.0)),
    # Any leg symptom said "yes"; False only when every leg question was answered "no".
    "leg_symptoms": _BOOL,
}

FACTS: Final[Mapping[str, FactSpec]] = MappingProxyType({**_REQUEST, **_DERIVED})
"""Every fact a table may read: request field paths first, then derived facts."""

REQUEST_FIELDS: Final[tuple[str, ...]] = tuple(_REQUEST)
"""The request field paths, in contract order."""

DERIVED_SOURCES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "onset_age": ("age", "duration_days"),
        "leg_symptoms": _LEG_SYMPTOMS,
    }
)
"""For each derived fact, the request fields it is computed from (used for evidence and
questions, which must always name request fields)."""


class UnknownFieldError(ValueError):
    """The request holds a field popcheck does not know. Never ignored: a misspelled red-flag
    field silently dropped would lower the urgency."""


def _sections() -> dict[str, dict[str, str]]:
    """Per section (every prefix of a path up to a dot), its sub-keys and their paths."""
    sections: dict[str, dict[str, str]] = {}
    for path in _REQUEST:
        for i, char in enumerate(path):
            if char == ".":
                sections.setdefault(path[:i], {})[path[i + 1 :]] = path
    return sections


# ``to_facts`` runs on every request, so how each request key lands in the flat facts is
# worked out here, once: a section's sub-keys map straight to their fact paths.
_SECTIONS: Final[Mapping[str, Mapping[str, str]]] = _sections()
_NO_SECTION: Final[Mapping[str, str]] = {}
_UNANSWERED: Final[Mapping[str, None]] = dict.fromkeys(FACTS)
_SEQUENCES: Final = (list, tuple)
# Answers of these exact types are stored as they are; checking the type first is cheaper
# than asking every answer whether it is a list to copy.
_PLAIN: Final = frozenset({bool, int, float, str, type(None)})
_LEG_ANSWERS: Final = itemgetter(*_LEG_SYMPTOMS)


def _copied(value: Any) -> Any:
    """A list answer as a new list (tuples too), so the engine holds nothing of the caller's."""
    return list(value) if isinstance(value, _SEQUENCES) else value


def _any_yes(values: tuple[Any, ...]) -> bool | None:
    """True if any value is True; False only when every value is False; else unanswered."""
    every_no = True
    for value in values:
        if value is True:
            return True
        if value is not False:
            every_no = False
    return False if every_no else None


def to_facts(request: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten a validated nested request into dotted fact paths and add the derived facts.

    Every fact in ``FACTS`` is present in the result; unanswered ones are ``None``. Lists are
    copied, so the engine never holds a reference into the caller's data.

    Raises:
        UnknownFieldError: the request names a field that is not in the contract.
    """
    facts: dict[str, Any] = dict(_UNANSWERED)
    for key, value in request.items():
        if key in _REQUEST:
            facts[key] = _copied(value)
        elif type(value) is dict or isinstance(value, Mapping):
            paths = _SECTIONS.get(key, _NO_SECTION)
            for sub_key, sub_value in value.items():
                path = paths.get(sub_key)
                if path is None:
                    raise UnknownFieldError(f"{key}.{sub_key}")
                if type(sub_value) in _PLAIN:
                    facts[path] = sub_value
                else:
                    facts[path] = _copied(sub_value)
        elif value is None and key in _SECTIONS:
            continue  # a whole section sent as null: every field in it is unanswered
        else:
            raise UnknownFieldError(key)

    age = facts["age"]
    duration = facts["duration_days"]
    if age is not None and duration is not None:
        facts["onset_age"] = age - duration / _DAYS_PER_YEAR
    facts["leg_symptoms"] = _any_yes(_LEG_ANSWERS(facts))
    return facts
