"""Everything an assessment needs that does not depend on the request, prepared once at load.

``prepare(ruleset)`` reads the tables and the catalog into one frozen ``Prepared``: per rule,
what it adds to an answer (its texts parsed, its evidence fields, its recommendation entry),
and the vocabulary ``GET /rules`` lists. The section functions in ``sections`` read it; none
of them looks at the catalog or a table again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from service.assessment.texts import Text, dose_text
from service.engine import CompiledRule, CompiledTable, Ruleset
from service.facts import DERIVED_SOURCES, FACTS

__all__ = [
    "RANK",
    "RECOMMENDATION_TYPES",
    "TYPE_ORDER",
    "URGENCY_LEVELS",
    "CauseRule",
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


@dataclass(frozen=True, slots=True)
class Upstream:
    """In a rule's evidence: the request fields tested by the matched rules of ``table``,
    a chained table this rule reads."""

    table: str


#: A matched rule's evidence, in tested order: request fields (a derived fact stands for the
#: fields it is computed from) and chained tables.
Evidence = tuple[str | Upstream, ...]


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


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ``recommendations`` rule: the entry it suggests and why."""

    id: str
    type: str
    label: str
    instructions: str
    dose: str | None
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
    causes: Mapping[str, CauseRule]
    suggestions: Mapping[str, Suggestion]
    #: By ``contraindications`` rule id: the recommendation id or type it blocks.
    blocks: Mapping[str, str]
    warnings: Mapping[str, WarningRule]
    #: Question text by request field, in catalog order (most important first).
    questions: Mapping[str, str]
    #: Each question's place in the catalog.
    question_place: Mapping[str, int]
    #: By table with a ``level`` output, by rule id: the rank that rule would give.
    raises_to: Mapping[str, Mapping[str, int]]
    #: By fact: the request fields with a question that an unanswered fact asks about.
    asks: Mapping[str, tuple[str, ...]]
    vocabulary: Mapping[str, Any]


def _squeeze(text: Any) -> str:
    """A catalog text on one line (YAML block scalars keep their line breaks)."""
    return " ".join(str(text).split())


def _evidence(rule: CompiledRule, tables: Mapping[str, CompiledTable]) -> Evidence:
    parts: list[str | Upstream] = []
    for name in rule.tests:
        if name in DERIVED_SOURCES:
            parts.extend(DERIVED_SOURCES[name])
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
        prepared[rule.id] = Suggestion(
            id=rec_id,
            type=entry["type"],
            label=entry["label"],
            instructions=_squeeze(entry["instructions"]),
            dose=dose_text(entry.get("dose")) if entry["type"] in ("stretch", "therapy") else None,
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
    questions = {field: _squeeze(text) for field, text in catalog["questions"].items()}
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
            )
            for rule in tables["red_flags"].rules
        },
        flag_order={flag: i for i, flag in enumerate(tables["red_flags"].output("flag").values)},
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
        raises_to={
            table.name: {
                rule.id: RANK.get(str(rule.outputs.get("level")), -1) for rule in table.rules
            }
            for table in tables.values()
            if any(out.name == "level" for out in table.outputs)
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
        vocabulary=_vocabulary(tables, catalog, questions),
    )
