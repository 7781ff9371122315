"""The facts the rule tables can read: every request field, flattened, plus a few derived facts.

``FACTS`` declares each fact's type (the engine's static checker uses it to reject a table that
reads an unknown fact or compares it with a literal that cannot fit). The request facts are
read from ``AssessmentRequestSchema``, the one declaration of the request; the engine itself
never sees marshmallow. ``to_facts`` turns the
validated, nested request into the flat mapping the engine evaluates. A fact that is ``None`` is
*unanswered*: the tables never treat a missing answer as a "no".

Derived facts are computed here only when a table cannot express them (arithmetic across two
answers). Counting criteria, such as the ASAS items, is done by a table instead, where a
clinical reviewer can read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Final

from marshmallow import Schema

from popcheck.engine import FactSpec, FactType
from popcheck.schemas.interview import FieldSpec, field_specs
from popcheck.schemas.request import AssessmentRequestSchema

__all__ = ["DERIVED_SOURCES", "FACTS", "REQUEST_FIELDS", "UnknownFieldError", "to_facts"]

_BOOL = FactSpec(FactType.BOOL)


def _fact(spec: FieldSpec) -> FactSpec:
    """The fact a request field is, read from the same field and validators that load it
    (``schemas.interview`` reads them once for the questions, the Questionnaire and here)."""
    match spec.type:
        case "boolean":
            return _BOOL
        case "integer" | "number":
            # The engine's gap and overlap analysis needs both ends of a number's domain.
            if spec.minimum is None or spec.maximum is None:
                raise TypeError(f"request field {spec.path!r} needs a closed validate.Range")
            kind = FactType.INT if spec.type == "integer" else FactType.NUMBER
            return FactSpec(kind, range=(float(spec.minimum), float(spec.maximum)))
        case "choice":
            return FactSpec(FactType.ENUM, values=tuple(o.value for o in spec.options or ()))
        case "multi_choice":
            return FactSpec(FactType.ENUM_LIST, values=tuple(o.value for o in spec.options or ()))
    raise TypeError(f"request field {spec.path!r}: no fact type for {spec.type!r}")


def _request_facts(schema: Schema) -> Iterator[tuple[str, FactSpec]]:
    """``(dotted path, fact)`` for every leaf field of ``schema``, in declaration order."""
    for spec in field_specs(schema):
        yield spec.path, _fact(spec)


# Request fields, in the order of the API contract, read from the request schema itself: the
# same ranges and enums that validate a request, so a table cannot test a value the schema
# would have rejected, and a new schema field is a fact without a second edit.
_REQUEST: dict[str, FactSpec] = dict(_request_facts(AssessmentRequestSchema()))

_LEG_SYMPTOMS: Final = (
    "pain.radiates_to_leg",
    "pain.below_knee",
    "neuro.numbness",
    "neuro.tingling",
    "neuro.leg_weakness",
    "neuro.gait_change",
)
_CANCER: Final = ("history.cancer", "history.active_cancer")
_COLLAPSE: Final = ("systemic.fainted", "systemic.feels_very_unwell")
_CORD_SIGNS: Final = (
    "neuro.leg_weakness",
    "neuro.numbness",
    "neuro.tingling",
    "neuro.gait_change",
    "pain.radiates_to_leg",
    "pain.band_like",
)
_METASTATIC_PAIN: Final = (
    "pain.thoracic",
    "pain.constant_progressive",
    "pain.worse_at_night",
    "pain.wakes_second_half_night",
)
_INFECTION_RISK: Final = (
    "history.iv_drug_use",
    "history.immunosuppressed",
    "history.recent_spinal_procedure",
    "history.recent_infection",
)

_DAYS_PER_YEAR: Final = 365.25

# Derived facts. The onset-age range follows from the request ranges: 16 - 36500/365.25 ~ -84.
_DERIVED: dict[str, FactSpec] = {
    # ASAS: "age at onset" is today's age minus how long the problem has lasted.
    "onset_age": FactSpec(FactType.NUMBER, range=(-84.0, 120.0)),
    # Any leg symptom said "yes"; False only when every leg question was answered "no".
    "leg_symptoms": _BOOL,
    # Cancer now or in the past: the contract says active cancer implies a cancer history, so
    # one fact lets every cancer rule be written once. True if either is "yes"; False when
    # the person has never had cancer; unanswered otherwise.
    "any_cancer": _BOOL,
    # Any of the risk factors for a spinal infection that guidance lists together [CKS-RF,
    # AJEM19]: injecting drugs, a weak immune system, a spinal procedure in the last 3 months,
    # a recent infection treated with antibiotics. Same rule as leg_symptoms.
    "infection_risk": _BOOL,
    # Fainted or collapsed, or signs of shock, named together for a leaking aorta [NHS-AAA].
    "collapse_signs": _BOOL,
    # With cancer, the nerve symptoms that need assessment at once, and the pain that
    # suggests spinal metastases [NG234, CG75]. Each is one fact so that each pattern is one
    # rule; the evidence and the questions still name the request fields.
    "cord_signs": _BOOL,
    "metastatic_pain": _BOOL,
}

FACTS: Final[Mapping[str, FactSpec]] = MappingProxyType({**_REQUEST, **_DERIVED})
"""Every fact a table may read: request field paths first, then derived facts."""

REQUEST_FIELDS: Final[tuple[str, ...]] = tuple(_REQUEST)
"""The request field paths, in contract order."""

DERIVED_SOURCES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "onset_age": ("age", "duration_days"),
        "leg_symptoms": _LEG_SYMPTOMS,
        "any_cancer": _CANCER,
        "infection_risk": _INFECTION_RISK,
        "collapse_signs": _COLLAPSE,
        "cord_signs": _CORD_SIGNS,
        "metastatic_pain": _METASTATIC_PAIN,
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
_CANCER_ANSWERS: Final = itemgetter(*_CANCER)
_INFECTION_RISK_ANSWERS: Final = itemgetter(*_INFECTION_RISK)
_COLLAPSE_ANSWERS: Final = itemgetter(*_COLLAPSE)
_CORD_ANSWERS: Final = itemgetter(*_CORD_SIGNS)
_METASTATIC_ANSWERS: Final = itemgetter(*_METASTATIC_PAIN)


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
    facts["infection_risk"] = _any_yes(_INFECTION_RISK_ANSWERS(facts))
    facts["collapse_signs"] = _any_yes(_COLLAPSE_ANSWERS(facts))
    facts["cord_signs"] = _any_yes(_CORD_ANSWERS(facts))
    facts["metastatic_pain"] = _any_yes(_METASTATIC_ANSWERS(facts))
    ever, now = _CANCER_ANSWERS(facts)
    # "Never had cancer" answers both; a "yes" to either wins over a "no" to the other.
    facts["any_cancer"] = True if True in (ever, now) else (False if ever is False else None)
    return facts
