"""Everything an assessment needs that does not depend on the request, prepared once at load.

``prepare(ruleset)`` reads the tables and the catalog into one frozen ``Prepared``: per rule,
what it adds to an answer (its texts parsed, its evidence fields, its recommendation entry),
and the vocabulary ``GET /rules`` lists. The section functions in ``sections`` read it; none
of them looks at the catalog or a table again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Final

from popcheck.assessment.texts import Text, dose_detail, dose_text
from popcheck.engine import CompiledRule, CompiledTable, Ruleset
from popcheck.facts import DERIVED_SOURCES, FACTS
from popcheck.schemas.interview import request_fields

__all__ = [
    "RANK",
    "RECOMMENDATION_TYPES",
    "TYPE_ORDER",
    "URGENCY_LEVELS",
    "DOSED",
    "CauseRule",
    "Derived",
    "FlagRule",
    "LevelRule",
    "Prepared",
    "Suggestion",
    "Upstream",
    "WarningRule",
    "prepare",
]

URGENCY_LEVELS: Final[tuple[str, ...]] = ("self_care", "routine", "soon", "urgent", "emergency")
"""The contract's urgency levels, lowest first; the index is the ``rank``."""

RANK: Final[Mapping[str, int]] = {level: rank for rank, level in enumerate(URGENCY_LEVELS)}

RECOMMENDATION_TYPES: Final[tuple[str, ...]] = ("referral", "precaution", "therapy", "stretch")
"""Recommendation types in the order they are listed: what to do first comes first."""

TYPE_ORDER: Final[Mapping[str, int]] = {kind: i for i, kind in enumerate(RECOMMENDATION_TYPES)}

DOSED: Final[tuple[str, ...]] = ("stretch", "therapy")
"""The recommendation types that carry a dose."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """In a rule's evidence: the request fields tested by the matched rules of ``table``,
    a chained table this rule reads."""

    table: str


@dataclass(frozen=True, slots=True)
class Derived:
    """In a rule's evidence: a derived fact, which stands for the request fields it is
    computed from (``sources``): those that said "yes" when it is true, else those answered."""

    name: str
    sources: tuple[str, ...]


#: A matched rule's evidence, in tested order: request fields, derived facts and chained
#: tables.
Evidence = tuple[str | Derived | Upstream, ...]


@dataclass(frozen=True, slots=True)
class LevelRule:
    """What any rule says for the urgency: its ``level`` output (``None`` without one), its
    reason (``None`` without one) and the chained tables it reads, in tested order."""

    level: str | None
    reason: Text | None
    upstream: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FlagRule:
    """A ``red_flags`` rule."""

    flag: str
    rank: int
    label: str
    #: The rule is weak evidence on its own (age, night pain): a flag raised only by such
    #: rules says so in its explanation.
    weak: bool


@dataclass(frozen=True, slots=True)
class CauseRule:
    """A ``causes`` rule: ``score`` as shown (within [0, 1], to the hundredth); ``because``
    its reason, sentence by sentence; ``about`` the cause's own explanation; ``covered_by``
    the rules for the same cause that test strictly more, and so say this rule's reason
    better when they match too; ``place`` the cause's place in the table's list of causes."""

    cause: str
    label: str
    likely: bool
    score: float
    because: tuple[Text, ...]
    about: str
    covered_by: frozenset[str]
    place: int
    #: The red flags this cause could explain (catalog ``explains``): beside any other red
    #: flag it is at most possible, and says that the warning sign comes first.
    explains: frozenset[str]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ``recommendations`` rule: the entry it suggests and why."""

    id: str
    type: str
    label: str
    instructions: str
    dose: str | None
    dose_detail: tuple[tuple[str, int | None], ...] | None
    reason: Text


@dataclass(frozen=True, slots=True)
class WarningRule:
    """A ``warnings`` rule."""

    code: str
    message: Text


@dataclass(frozen=True, slots=True)
class Prepared:
    """A ruleset read for assembling answers. Read-only: share it between threads."""

    reference: Mapping[str, str]
    disclaimer: str
    seek_care: Mapping[str, str]
    #: By table, by rule id: what the rule says for the urgency.
    levels: Mapping[str, Mapping[str, LevelRule]]
    #: By table, by rule id: the rule's evidence.
    evidence: Mapping[str, Mapping[str, Evidence]]
    flags: Mapping[str, FlagRule]
    flag_order: Mapping[str, int]
    #: By flag: its explanation, and the explanation when only weak rules raised it.
    flag_explanations: Mapping[str, tuple[str, str]]
    #: Put before a cause's explanation when a red flag it does not explain was found.
    cause_beside_red_flag: str
    causes: Mapping[str, CauseRule]
    suggestions: Mapping[str, Suggestion]
    #: By ``contraindications`` rule id: the recommendation id or type it blocks.
    blocks: Mapping[str, str]
    warnings: Mapping[str, WarningRule]
    #: Question text by request field, in catalog order (most important first).
    questions: Mapping[str, str]
    #: Each question's place in the catalog.
    question_place: Mapping[str, int]
    #: By request field with a question, by the rank its answer could raise the urgency to:
    #: its entry in an answer's ``questions`` (field, text, type, options, range, unit,
    #: ``raises_to``, follows), typed once here. Copied per request, never handed out.
    question_details: Mapping[str, tuple[dict[str, Any], ...]]
    #: The questions whose entry holds a list (choices, leads), copied too per request.
    question_lists: frozenset[str]
    #: By follow-up question: its lead questions (catalog ``follows``). A follow-up is not
    #: asked when every lead was answered "no" (invariant 13).
    follows: Mapping[str, tuple[str, ...]]
    #: Urgency reasons that are only true once no question is open, with the text that
    #: replaces each while one is (catalog ``general.while_questions_open``; invariant 16).
    while_questions_open: Mapping[str, str]
    #: By table with a ``level`` output, by rule id: the rank that rule would give.
    raises_to: Mapping[str, Mapping[str, int]]
    #: The same ranks by rule id alone (rule ids are unique across the ruleset); a rule that
    #: gives no level has ``len(URGENCY_LEVELS)``, past every rank.
    raises: Mapping[str, int]
    #: By fact: the request fields with a question that an unanswered fact asks about.
    asks: Mapping[str, tuple[str, ...]]
    #: Every request field a derived fact asks about.
    derived_fields: frozenset[str]
    #: By the missing inputs a partial match can report (a rule's unanswered inputs, in
    #: table order): the request fields with a question they ask about, worked out at load
    #: for every subset of every level-giving rule's inputs that cannot be unanswered.
    asks_of_missing: Mapping[tuple[str, ...], frozenset[str]]
    vocabulary: Mapping[str, Any]


def _squeeze(text: Any) -> str:
    """A catalog text on one line (YAML block scalars keep their line breaks)."""
    return " ".join(str(text).split())


def _evidence(rule: CompiledRule, tables: Mapping[str, CompiledTable]) -> Evidence:
    parts: list[str | Derived | Upstream] = []
    for name in rule.tests:
        if name in DERIVED_SOURCES:
            parts.append(Derived(name, DERIVED_SOURCES[name]))
        elif name in FACTS:
            parts.append(name)
        elif (table := name.split(".", 1)[0]) in tables:
            parts.append(Upstream(table))
    return tuple(parts)


def _sources(tables: Mapping[str, CompiledTable]) -> dict[str, tuple[str, ...]]:
    """Where a placeholder naming a table's output reads from: later tables first."""
    sources: dict[str, tuple[str, ...]] = {}
    for table in tables.values():
        for out in table.outputs:
            key = f"{table.name}.{out.name}"
            sources[key] = (table.name, *sources.get(key, ()))
    return sources


def _cause_rules(
    table: CompiledTable, reasons: Mapping[str, Text], catalog: Mapping[str, Any]
) -> dict[str, CauseRule]:
    prepared: dict[str, CauseRule] = {}
    causes = table.output("cause").values
    for rule in table.rules:
        cause = str(rule.outputs["cause"])
        mine = frozenset(rule.tests)
        reason = str(rule.outputs["reason"])
        prepared[rule.id] = CauseRule(
            cause=cause,
            label=catalog["causes"][cause]["label"],
            likely=rule.outputs["likelihood"] == "likely",
            score=round(min(max(float(rule.outputs["score"]), 0.0), 1.0), 2),
            because=reasons.get(reason, Text.plain(reason)).sentences(),
            about=_squeeze(catalog["causes"][cause]["explanation"]),
            covered_by=frozenset(
                other.id
                for other in table.rules
                if str(other.outputs["cause"]) == cause and mine < frozenset(other.tests)
            ),
            place=causes.index(cause),
            explains=frozenset(catalog["causes"][cause].get("explains", ())),
        )
    return prepared


def _suggestions(
    table: CompiledTable, reasons: Mapping[str, Text], catalog: Mapping[str, Any]
) -> dict[str, Suggestion]:
    prepared: dict[str, Suggestion] = {}
    for rule in table.rules:
        rec_id = str(rule.outputs["recommendation"])
        entry = catalog["recommendations"][rec_id]
        reason = str(rule.outputs["reason"])
        dose = entry.get("dose") if entry["type"] in DOSED else None
        detail = dose_detail(dose)
        prepared[rule.id] = Suggestion(
            id=rec_id,
            type=entry["type"],
            label=entry["label"],
            instructions=_squeeze(entry["instructions"]),
            dose=dose_text(dose),
            dose_detail=None if detail is None else tuple(detail.items()),
            reason=reasons.get(reason, Text.plain(reason)),
        )
    return prepared


def _level_rules(
    tables: Mapping[str, CompiledTable], reasons: Mapping[str, Text]
) -> dict[str, dict[str, LevelRule]]:
    def reason_of(rule: CompiledRule) -> Text | None:
        if "reason" not in rule.outputs:
            return None
        key = str(rule.outputs["reason"])
        return reasons.get(key, Text.plain(key))  # a reason without a text shows its key

    return {
        table.name: {
            rule.id: LevelRule(
                level=None if (level := rule.outputs.get("level")) is None else str(level),
                reason=reason_of(rule),
                upstream=tuple(
                    prefix for name in rule.tests if (prefix := name.split(".", 1)[0]) in tables
                ),
            )
            for rule in table.rules
        }
        for table in tables.values()
    }


def _raises_to(tables: Mapping[str, CompiledTable]) -> dict[str, dict[str, int]]:
    return {
        table.name: {rule.id: RANK.get(str(rule.outputs.get("level")), -1) for rule in table.rules}
        for table in tables.values()
        if any(out.name == "level" for out in table.outputs)
    }


def _asks_of_missing(
    tables: Mapping[str, CompiledTable],
    raising: Mapping[str, Mapping[str, int]],
    questions: Mapping[str, str],
) -> dict[tuple[str, ...], frozenset[str]]:
    def asked(fact: str) -> tuple[str, ...]:
        return tuple(f for f in DERIVED_SOURCES.get(fact, (fact,)) if f in questions)

    found: dict[tuple[str, ...], frozenset[str]] = {}
    for name in raising:
        table = tables[name]
        order = [spec.name for spec in table.inputs]
        for rule in table.rules:
            noneable = [n for n in order if n in rule.tests and not rule.tests[n].fn(None)]
            for size in range(1, len(noneable) + 1):
                for missing in combinations(noneable, size):
                    found[missing] = frozenset(f for fact in missing for f in asked(fact))
    return found


def question_entries(catalog: Mapping[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The catalog's questions as ``{field: (text, leads)}``, in catalog order. An entry is
    the question's text, or ``{text, follows}`` where ``follows`` names the lead question (or
    a list of them) that must not all be answered "no" for this one to be asked."""
    entries: dict[str, tuple[str, tuple[str, ...]]] = {}
    for field, entry in catalog["questions"].items():
        if isinstance(entry, Mapping):
            follows = entry.get("follows") or ()
            leads = (follows,) if isinstance(follows, str) else tuple(follows)
            entries[field] = (_squeeze(entry.get("text", "")), tuple(str(x) for x in leads))
        else:
            entries[field] = (_squeeze(entry), ())
    return entries


def _question_details(
    entries: Mapping[str, tuple[str, tuple[str, ...]]],
) -> dict[str, tuple[dict[str, Any], ...]]:
    """Each question's entry for each level it could raise the urgency to, typed from the
    request contract (``request_fields``): only the members that apply to its type (options
    for choices; range and unit for numbers) and ``follows`` only for a follow-up."""
    specs = request_fields()
    details: dict[str, tuple[dict[str, Any], ...]] = {}
    for field, (text, leads) in entries.items():
        spec = specs[field]
        typed: dict[str, Any] = {"field": field, "text": text, "type": spec.type}
        if spec.options is not None:
            typed["options"] = [
                {"value": option.value, "label": option.label} for option in spec.options
            ]
        for key in ("minimum", "maximum", "unit"):
            if getattr(spec, key) is not None:
                typed[key] = getattr(spec, key)
        details[field] = tuple(
            {**typed, "raises_to": level, **({"follows": list(leads)} if leads else {})}
            for level in URGENCY_LEVELS
        )
    return details


def _flag_explanations(catalog: Mapping[str, Any], flags: Any) -> dict[str, tuple[str, str]]:
    explained: dict[str, tuple[str, str]] = {}
    for flag in flags:
        entry = catalog["red_flags"][flag]
        about = _squeeze(entry["explanation"])
        weak = entry.get("explanation_weak")
        explained[flag] = (about, f"{_squeeze(weak)} {about}" if weak else about)
    return explained


def _vocabulary(
    tables: Mapping[str, CompiledTable], catalog: Mapping[str, Any], questions: Mapping[str, str]
) -> dict[str, Any]:
    recommendations = catalog["recommendations"]
    return {
        "urgency": [
            {
                "id": level,
                "rank": RANK[level],
                "label": catalog["urgency"][level]["label"],
                "seek_care": _squeeze(catalog["urgency"][level]["seek_care"]),
            }
            for level in URGENCY_LEVELS
        ],
        "red_flags": [
            {"id": flag, "label": catalog["red_flags"][flag]["label"]}
            for flag in tables["red_flags"].output("flag").values
        ],
        "causes": [
            {"id": cause, "label": catalog["causes"][cause]["label"]}
            for cause in tables["causes"].output("cause").values
        ],
        "likelihood": [
            {"id": "likely", "label": "Likely"},
            {"id": "possible", "label": "Possible"},
        ],
        "recommendations": [
            {"id": rec_id, "type": entry["type"], "label": entry["label"]}
            for rec_id, entry in recommendations.items()
        ],
        "warnings": [
            {"id": code, "label": _squeeze(catalog["warnings"][code]["message"])}
            for code in tables["warnings"].output("code").values
        ],
        "questions": [{"id": field, "label": text} for field, text in questions.items()],
    }


def prepare(ruleset: Ruleset) -> Prepared:
    """Read ``ruleset`` (already checked by ``checks.catalog_findings``) for assembly."""
    catalog = ruleset.catalog
    tables = {table.name: table for table in ruleset.tables}
    sources = _sources(tables)
    reasons = {key: Text.parse(text, sources) for key, text in catalog["reasons"].items()}
    entries = question_entries(catalog)
    questions = {field: text for field, (text, _leads) in entries.items()}
    return Prepared(
        reference={"name": ruleset.name, "version": ruleset.version, "digest": ruleset.digest},
        disclaimer=_squeeze(catalog["general"]["disclaimer"]),
        seek_care={level: _squeeze(catalog["urgency"][level]["seek_care"]) for level in RANK},
        levels=_level_rules(tables, reasons),
        evidence={
            table.name: {rule.id: _evidence(rule, tables) for rule in table.rules}
            for table in tables.values()
        },
        flags={
            rule.id: FlagRule(
                flag=(flag := str(rule.outputs["flag"])),
                rank=RANK[str(rule.outputs["level"])],
                label=catalog["red_flags"][flag]["label"],
                weak=rule.outputs.get("weak_alone") is True,
            )
            for rule in tables["red_flags"].rules
        },
        flag_order={flag: i for i, flag in enumerate(tables["red_flags"].output("flag").values)},
        flag_explanations=_flag_explanations(catalog, tables["red_flags"].output("flag").values),
        cause_beside_red_flag=_squeeze(catalog["general"]["cause_beside_red_flag"]),
        causes=_cause_rules(tables["causes"], reasons, catalog),
        suggestions=_suggestions(tables["recommendations"], reasons, catalog),
        blocks={rule.id: str(rule.outputs["blocks"]) for rule in tables["contraindications"].rules},
        warnings={
            rule.id: WarningRule(
                code := str(rule.outputs["code"]),
                Text.parse(catalog["warnings"][code]["message"], sources),
            )
            for rule in tables["warnings"].rules
        },
        questions=questions,
        question_place={field: i for i, field in enumerate(questions)},
        question_details=_question_details(entries),
        question_lists=frozenset(
            field
            for field, (_text, leads) in entries.items()
            if leads or request_fields()[field].options is not None
        ),
        follows={field: leads for field, (_text, leads) in entries.items() if leads},
        while_questions_open={
            _squeeze(catalog["reasons"][key]): _squeeze(catalog["reasons"][instead])
            for key, instead in (catalog["general"].get("while_questions_open") or {}).items()
        },
        raises_to=(raises_to := _raises_to(tables)),
        raises={
            rule_id: to if to >= 0 else len(URGENCY_LEVELS)
            for ranks in raises_to.values()
            for rule_id, to in ranks.items()
        },
        asks={
            fact: asked
            for fact in FACTS
            if (
                asked := tuple(
                    field for field in DERIVED_SOURCES.get(fact, (fact,)) if field in questions
                )
            )
        },
        derived_fields=frozenset(
            field for sources in DERIVED_SOURCES.values() for field in sources if field in questions
        ),
        asks_of_missing=_asks_of_missing(tables, raises_to, questions),
        vocabulary=_vocabulary(tables, catalog, questions),
    )
