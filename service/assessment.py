"""The domain pipeline: request -> facts -> engine -> one assessment.

The tables decide (``service/rules/``); this module only assembles what they decided into the
response body, with the texts from the catalog. It adds no clinical judgement of its own, apart
from the safety guarantees that are cheaper to enforce once here than to trust to every table:

- the urgency is the single level the ``urgency`` table chose (it is complete, so there is
  always one); its reasons come from every rule that gave that level, and when that level came
  from a red flag, from the red-flag rules themselves;
- a recommendation blocked by any ``contraindications`` rule is removed, whichever rule
  suggested it, so a safety rule always wins;
- ``questions`` are the unanswered fields of rules that would *raise* the urgency, most
  urgent first; unanswered answers never lower anything because the engine never lets a
  missing answer match a test.

Everything that does not depend on the request is prepared once in ``Assessor.__init__``:
templates, labels, doses and the vocabulary, and per rule what it adds to a body (its text,
already rendered when it quotes no answer; a cause reason's sentences; the evidence fields
of its own inputs; its recommendation entry). ``assess`` then looks up, renders what quotes
an answer, and copies.
"""

from __future__ import annotations

import copy
import dataclasses
import string
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, TypeAlias

from service.engine import (
    CompiledRule,
    CompiledTable,
    Evaluator,
    Finding,
    Match,
    RuleError,
    Ruleset,
    TableResult,
    load_ruleset,
)
from service.facts import DERIVED_SOURCES, FACTS, REQUEST_FIELDS, to_facts

__all__ = ["URGENCY_LEVELS", "Assessor", "load_assessor"]

URGENCY_LEVELS: Final[tuple[str, ...]] = ("self_care", "routine", "soon", "urgent", "emergency")
"""The contract's urgency levels, lowest first; the index is the ``rank``."""

RECOMMENDATION_TYPES: Final[tuple[str, ...]] = ("referral", "precaution", "therapy", "stretch")
"""Recommendation types in the order they are listed: what to do first comes first (the
assembly keeps one list per type, named in this order)."""

# The tables this pipeline reads, and the outputs it needs from each. A ruleset without them
# cannot produce an assessment, so it is refused at load time, never at request time.
_REQUIRED_OUTPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "red_flags": ("flag", "level", "reason"),
    "causes": ("cause", "score", "likelihood", "reason"),
    "urgency": ("level", "reason"),
    "recommendations": ("recommendation", "reason"),
    "contraindications": ("blocks", "reason"),
    "warnings": ("code",),
}
_CATALOG_FILE: Final = "catalog.yaml"
_RANK: Final[Mapping[str, int]] = {level: rank for rank, level in enumerate(URGENCY_LEVELS)}
_FORMATTER: Final = string.Formatter()
_FIRST: Final = itemgetter(0)
_NO_QUESTION: Final = 1 << 30  # above every question's sort key
# The catalog section each id the assembly shows is looked up in, by table and output.
_CATALOGUED: Final[tuple[tuple[str, str, str], ...]] = (
    ("red_flags", "flag", "red_flags"),
    ("causes", "cause", "causes"),
    ("recommendations", "recommendation", "recommendations"),
    ("warnings", "code", "warnings"),
)


@dataclass(frozen=True)
class _Template:
    """A catalog text split once into literal text and ``{fact}`` placeholders."""

    parts: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> _Template:
        parts = tuple(
            (literal, field) for literal, field, _spec, _conv in _FORMATTER.parse(text.strip())
        )
        return cls(parts)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(field for _literal, field in self.parts if field)

    def bind(self, sources: Mapping[str, tuple[str, ...]]) -> _Text:
        """The text as ``assess`` uses it: rendered now when it quotes no answer (most do),
        else a ``_Fill`` whose placeholders know where their values come from."""
        if not self.fields:
            return "".join(literal for literal, _field in self.parts)
        return _Fill(
            tuple(
                (literal, field, sources.get(field, ()) if field else ())
                for literal, field in self.parts
            )
        )


@dataclass(frozen=True, slots=True)
class _Fill:
    """A text that quotes answers. Each placeholder carries the tables whose scalar result
    it may name (``asas_items.item``), latest first, so rendering reads the facts and the
    results directly instead of merging them into one mapping per request."""

    parts: tuple[tuple[str, str | None, tuple[str, ...]], ...]
    #: ``(before, field, after)`` when the text quotes one answer read from the facts (most
    #: do), rendered without the general loop.
    one: tuple[str, str, str] | None = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        one = None
        if len(self.parts) == 2:
            (before, quoted, tables), (after, last, _) = self.parts
            if quoted and not tables and not last:
                one = (before, quoted, after)
        object.__setattr__(self, "one", one)

    def render(self, facts: Mapping[str, Any], results: Mapping[str, TableResult]) -> str:
        one = self.one
        if one is not None:
            value = facts.get(one[1])
            return f"{one[0]}{value if type(value) is int else _show(value)}{one[2]}"
        out: list[str] = []
        for literal, field, tables in self.parts:
            out.append(literal)
            if field:
                if tables:
                    out.append(_show(_placeholder_value(field, tables, facts, results)))
                else:
                    out.append(_show(facts.get(field)))
        return "".join(out)


_Text: TypeAlias = "str | _Fill"
"""A catalog text for one use: final already, or to be filled in per request."""

_Asks: TypeAlias = tuple[dict[str, int], dict[str, tuple[tuple[str, int], ...]]]
"""For one urgency rank: each question's sort key by the missing fact that asks it (itself),
and by derived fact the keys of the unanswered fields it asks about."""

_Assembly: TypeAlias = Callable[[Mapping[str, TableResult], Mapping[str, Any]], dict[str, Any]]
"""The body (without ``trace``) from the engine's results and the facts it read."""


def _placeholder_value(
    field: str,
    tables: tuple[str, ...],
    facts: Mapping[str, Any],
    results: Mapping[str, TableResult],
) -> Any:
    """A chained table's result when ``field`` names one of its outputs and the result is a
    single number or word (the latest such table wins, as in the chained facts), else the
    person's answer."""
    for name in tables:
        result = results.get(name)
        if result is not None:
            value = result.value
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                return value
    return facts.get(field)


def _show(value: Any) -> str:
    """A fact value as a person reads it: ``7`` not ``7.0``; never ``None``."""
    if value is None:
        return "(not answered)"
    if type(value) is int:  # the usual answer, first
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, list | tuple):
        # ["lower_back", "hips"] -> "lower back and hips"
        words = [str(item).replace("_", " ") for item in value]
        return " and ".join(filter(None, [", ".join(words[:-1]), *words[-1:]]))
    return str(value)


def _dose_text(dose: Mapping[str, Any] | None) -> str | None:
    """``{reps: 10, hold_seconds: 3, times_per_day: 2}`` -> "10 times, hold each for ..."."""
    if not dose:
        return None
    parts: list[str] = []
    reps = dose.get("reps")
    hold = dose.get("hold_seconds")
    minutes = dose.get("minutes")
    per_day = dose.get("times_per_day")
    if reps:
        parts.append(f"{reps} times")
    if hold:
        parts.append(f"hold each for {hold} seconds")
    if minutes:
        parts.append(f"{minutes} minutes")
    if per_day:
        parts.append({1: "once a day", 2: "twice a day"}.get(per_day, f"{per_day} times a day"))
    return ", ".join(parts).capitalize() if parts else None


def _placeholder_findings(
    file: str, rule: CompiledRule, catalog: Mapping[str, Any]
) -> list[Finding]:
    """A text may quote only answers its rule tested: those are always answered when it shows."""
    if "reason" in rule.outputs:
        text = catalog["reasons"].get(rule.outputs["reason"], "")
    elif "code" in rule.outputs:
        text = catalog["warnings"].get(rule.outputs["code"], {}).get("message", "")
    else:
        return []
    fields = _Template.parse(str(text)).fields
    return [
        Finding(file, rule.id, f"text quotes {field!r}, which this rule does not test")
        for field in fields
        if field not in rule.tests
    ]


def _catalog_findings(
    table: CompiledTable, output: str, section: Mapping[str, Any]
) -> list[Finding]:
    """Every id a rule gives must have its catalog entry, so a match can never fail a request."""
    return [
        Finding(table.file, rule.id, f"{output} {value!r} has no entry in the catalog")
        for rule in table.rules
        if (value := str(rule.outputs[output])) not in section
    ]


def _sentences(text: str) -> list[str]:
    """Split a rendered catalog text after each full stop (the catalog's texts are plain
    sentences; none contains an abbreviation with a dot)."""
    parts = text.split(". ")
    if len(parts) == 1:
        return parts
    return [part if part.endswith(".") else f"{part}." for part in parts[:-1]] + parts[-1:]


def _sentence_texts(text: _Text) -> tuple[_Text, ...]:
    """A reason's sentences as ``_sentences`` would split it once rendered, worked out on the
    template: answers never contain ". " nor end with a dot (numbers, words, lists of words),
    so every break is in the literal text. Only the sentences that quote an answer are left
    to render per request."""
    if isinstance(text, str):
        return tuple(_sentences(text))
    sentences: list[_Text] = []
    current: list[tuple[str, str | None, tuple[str, ...]]] = []
    for literal, field, tables in _merged_literals(text.parts):
        pieces = literal.split(". ")
        for piece in pieces[:-1]:  # each ends a sentence, with its full stop
            current.append((piece if piece.endswith(".") else f"{piece}.", None, ()))
            sentences.append(_sentence_text(current))
            current = []
        current.append((pieces[-1], field, tables))
    sentences.append(_sentence_text(current))
    return tuple(sentences)


def _merged_literals(
    parts: Sequence[tuple[str, str | None, tuple[str, ...]]],
) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """``parts`` with literal-only parts joined to the next part's literal, so a literal
    always follows a placeholder (or starts the text)."""
    merged: list[tuple[str, str | None, tuple[str, ...]]] = []
    pending = ""
    for literal, field, tables in parts:
        if field:
            merged.append((pending + literal, field, tables))
            pending = ""
        else:
            pending += literal
    merged.append((pending, None, ()))
    return merged


def _sentence_text(parts: list[tuple[str, str | None, tuple[str, ...]]]) -> _Text:
    if any(field for _literal, field, _tables in parts):
        return _Fill(tuple(parts))
    return "".join(literal for literal, _field, _tables in parts)


@dataclass(frozen=True)
class _Recommendation:
    type: str
    label: str
    instructions: str
    dose: str | None


# ---------------------------------------------------------------------- per rule, at load time
@dataclass(frozen=True, slots=True)
class _Evidence:
    """The request fields a matched rule gives as evidence.

    ``fields`` when every input it tests is a request or derived fact (already in tested
    order, without repeats); otherwise ``None``, and ``parts`` keeps the tested order, a
    chained table's name standing for the evidence of that table's matches in the request.
    """

    fields: tuple[str, ...] | None
    parts: tuple[str | tuple[str, ...], ...]

    @classmethod
    def of(cls, rule: CompiledRule, tables: Collection[str]) -> _Evidence:
        parts: list[str | tuple[str, ...]] = []
        fields: list[str] = []
        chained = False
        for name in rule.tests:
            if name in DERIVED_SOURCES:
                parts.append(DERIVED_SOURCES[name])
                fields.extend(DERIVED_SOURCES[name])
            elif name in FACTS:
                parts.append((name,))
                fields.append(name)
            elif (table := name.split(".", 1)[0]) in tables:
                parts.append(table)
                chained = True
        if chained:
            return cls(None, tuple(parts))
        return cls(tuple(dict.fromkeys(fields)), ())


@dataclass(frozen=True, slots=True)
class _Reasoning:
    """What a rule says for the urgency: its ``level`` output (``None`` without one), its
    reason text (``None`` without one) and the chained tables it reads, in tested order."""

    level: Any
    reason: _Text | None
    upstream: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _FlagRule:
    flag: str
    rank: int
    label: str
    #: The evidence fields when no input is chained (else ``None``: found per request).
    evidence: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class _CauseRule:
    """A ``causes`` rule: ``sentences`` is its fixed reason split into sentences without
    repeats, ``templates`` instead (``None`` when fixed) its reason's sentences when it quotes
    an answer; ``explanation`` the cause's whole explanation when this rule matches alone and
    its reason is fixed, ``about`` the cause's own explanation; ``covered_by`` the rules for
    the same cause that test strictly more, and so replace this one's reason."""

    cause: str
    label: str
    likely: bool
    score: float
    sentences: tuple[str, ...]
    templates: tuple[_Text, ...] | None
    explanation: str | None
    about: str
    covered_by: frozenset[str]
    #: The cause's entry when this rule matches alone; ``explanation`` is filled in per
    #: request when it quotes an answer, ``evidence`` always (it is a fresh list per body).
    #: Copied per body: only its strings and number are shared.
    alone: dict[str, Any]
    #: The evidence fields when no input is chained (else ``None``: found per request).
    evidence: tuple[str, ...] | None
    #: Where the entry ranks when this rule matches alone (see ``Assessor._cause_key``).
    key: int
    #: The reason when it is one sentence that quotes an answer (then the explanation is
    #: that sentence and ``about``: nothing to deduplicate).
    lone: _Fill | None


def _because(
    rule: _CauseRule, facts: Mapping[str, Any], results: Mapping[str, TableResult]
) -> Sequence[str]:
    """The sentences of a cause rule's reason for this request."""
    templates = rule.templates
    if templates is None:
        return rule.sentences
    return [text if isinstance(text, str) else text.render(facts, results) for text in templates]


@dataclass(frozen=True, slots=True)
class _Suggestion:
    """A ``recommendations`` rule: its entry (with its reason when that is fixed; else the
    reason, ``fill``, is filled in per request, last, where it belongs), and its type's
    place."""

    recommendation: str
    type: str
    order: int
    #: Copied per body: only its strings are shared.
    entry: dict[str, Any]
    fill: _Fill | None


@dataclass(frozen=True, slots=True)
class _WarningRule:
    code: str
    message: _Text


class Assessor:
    """Turns a validated request into the contract's ``Assessment`` body (without ``id``).

    Build one per ruleset (``load_assessor``) and share it: it is read-only, so
    ``assess`` is safe to call from many threads at once.
    """

    ruleset: Ruleset

    def __init__(self, ruleset: Ruleset) -> None:
        """Prepare every text and lookup; raises ``RuleError`` if the ruleset cannot serve."""
        self.ruleset = ruleset
        findings = self._check(ruleset)
        if findings:
            raise RuleError(findings)
        catalog = ruleset.catalog
        self._tables = {table.name: table for table in ruleset.tables}
        self._questions: dict[str, str] = {
            field: " ".join(str(text).split()) for field, text in catalog["questions"].items()
        }
        self._recommendations = {
            rec_id: _Recommendation(
                type=entry["type"],
                label=entry["label"],
                instructions=" ".join(str(entry["instructions"]).split()),
                dose=_dose_text(entry.get("dose"))
                if entry["type"] in ("stretch", "therapy")
                else None,
            )
            for rec_id, entry in catalog["recommendations"].items()
        }
        self._disclaimer = " ".join(str(catalog["general"]["disclaimer"]).split())
        self._explanations = {
            cause: " ".join(str(entry["explanation"]).split())
            for cause, entry in catalog["causes"].items()
        }
        self._seek_care = {
            level: " ".join(str(catalog["urgency"][level]["seek_care"]).split())
            for level in URGENCY_LEVELS
        }
        self._cause_order = {
            cause: i for i, cause in enumerate(self._tables["causes"].output("cause").values)
        }
        self._flag_order = {
            flag: i for i, flag in enumerate(self._tables["red_flags"].output("flag").values)
        }
        # Tables whose rules carry an urgency ``level``: their partial matches become questions.
        self._level_tables = tuple(
            table.name
            for table in ruleset.tables
            if any(out.name == "level" for out in table.outputs)
        )
        # For the questions, per level table and per current rank: the rules that would
        # raise the urgency above it, each with the base of its rank's sort keys (a partial
        # match's outputs are its rule's), so a request looks each partial match up once.
        # A question's sort key is its rank's base plus its catalog place: one int orders
        # by rank (highest first) then catalog order (so the authors put saddle numbness and
        # bladder or bowel change first), and a field's lower key is its higher rank, so a
        # request keeps one int per field, sorts plain ints and copies the entry at each.
        self._question_entries: tuple[dict[str, str], ...] = tuple(
            {"field": field, "text": text}
            for _rank in reversed(URGENCY_LEVELS)
            for field, text in self._questions.items()
        )
        place = {field: i for i, field in enumerate(self._questions)}
        asked = {
            fact: tuple((field, place[field]) for field in fields if field in place)
            for fact in FACTS
            if (fields := self._question_fields(fact))
        }
        # Nearly every missing fact is a request field asking about itself (unanswered, as
        # only an unanswered input is ever missing); only derived facts ask about several
        # fields, each still to be checked for an answer.
        self._asks_itself = {
            fact: fields[0][1]
            for fact, fields in asked.items()
            if fields == ((fact, fields[0][1]),)
        }
        self._asks_about = {
            fact: fields
            for fact, fields in asked.items()
            if fields and fact not in self._asks_itself
        }
        # For the questions, per level table and per current rank: the rules that would
        # raise the urgency above it (a partial match's outputs are its rule's), each with
        # its rank's finished sort keys: by fact asking about itself, and by derived fact
        # the keys of the fields it asks about. One pair per rank, shared by its rules.
        asks: dict[int, _Asks] = {}
        for base in range(0, len(URGENCY_LEVELS) * len(place), len(place)):
            asks[base] = (
                {fact: base + at for fact, at in self._asks_itself.items()},
                {
                    fact: tuple((field, base + at) for field, at in fields)
                    for fact, fields in self._asks_about.items()
                },
            )
        self._raising = tuple(
            (
                name,
                tuple(
                    {rule_id: asks[base] for rule_id, base in bases.items()}
                    for bases in self._raising_rules(self._tables[name], len(self._questions))
                ),
            )
            for name in self._level_tables
        )
        self._vocabulary = self._build_vocabulary()
        self._reference = {
            "name": ruleset.name,
            "version": ruleset.version,
            "digest": ruleset.digest,
        }
        self._prepare_rules(catalog)
        self._assemble = self._build_assembly()
        # Only the level tables' partial matches become questions: every other table is
        # evaluated for its matches alone, which is cheaper (``explain`` still reports all).
        self._evaluator = Evaluator(ruleset, partial_for=self._level_tables)
        self._evaluate = self._evaluator.run

    def _prepare_rules(self, catalog: Mapping[str, Any]) -> None:
        """Per rule, what it adds to a body; a rule's outputs and tested inputs are fixed, so
        only the texts that quote an answer, and evidence through chained tables, are left
        for the request."""
        tables = self._tables
        # Where a placeholder naming a table's output reads from (``asas_items.item``): later
        # tables first, as a later table's output would shadow an earlier one's.
        sources: dict[str, tuple[str, ...]] = {}
        for table in tables.values():
            for out in table.outputs:
                key = f"{table.name}.{out.name}"
                sources[key] = (table.name, *sources.get(key, ()))
        reasons = {
            key: _Template.parse(text).bind(sources) for key, text in catalog["reasons"].items()
        }
        messages = {
            code: _Template.parse(entry["message"]).bind(sources)
            for code, entry in catalog["warnings"].items()
        }

        def reason_of(rule: CompiledRule) -> _Text:
            key = str(rule.outputs["reason"])
            return reasons.get(key, key)  # a reason without a text shows its key

        self._evidence_of = {
            table.name: {rule.id: _Evidence.of(rule, tables) for rule in table.rules}
            for table in tables.values()
        }
        self._reasoning = {
            table.name: {
                rule.id: _Reasoning(
                    level=rule.outputs.get("level"),
                    reason=reason_of(rule) if "reason" in rule.outputs else None,
                    upstream=tuple(
                        prefix for name in rule.tests if (prefix := name.split(".", 1)[0]) in tables
                    ),
                )
                for rule in table.rules
            }
            for table in tables.values()
        }
        self._flag_rules = {
            rule.id: _FlagRule(
                flag=(flag := str(rule.outputs["flag"])),
                rank=_RANK[str(rule.outputs["level"])],
                label=catalog["red_flags"][flag]["label"],
                evidence=self._evidence_of["red_flags"][rule.id].fields,
            )
            for rule in tables["red_flags"].rules
        }
        self._cause_rules = {
            rule.id: self._cause_rule(rule, reason_of(rule), catalog)
            for rule in tables["causes"].rules
        }
        self._suggestions = {
            rule.id: self._suggestion(rule, reason_of(rule))
            for rule in tables["recommendations"].rules
        }
        self._blocks = {
            rule.id: str(rule.outputs["blocks"]) for rule in tables["contraindications"].rules
        }
        self._warning_rules = {
            rule.id: _WarningRule(code := str(rule.outputs["code"]), messages[code])
            for rule in tables["warnings"].rules
        }

    def _cause_rule(
        self, rule: CompiledRule, reason: _Text, catalog: Mapping[str, Any]
    ) -> _CauseRule:
        cause = str(rule.outputs["cause"])
        mine = frozenset(rule.tests)
        covered_by = frozenset(
            other.id
            for other in self._tables["causes"].rules
            if str(other.outputs["cause"]) == cause and mine < frozenset(other.tests)
        )
        about = self._explanations[cause]
        sentences: tuple[str, ...] = ()
        templates: tuple[_Text, ...] | None = None
        explanation: str | None = None
        if isinstance(reason, str):
            # Sentence by sentence, so two matched combinations that share a finding do not
            # say it twice.
            sentences = tuple(dict.fromkeys(_sentences(reason)))
            explanation = " ".join([*sentences, about])
        else:
            # Split at load: a request renders only the sentences that quote an answer.
            templates = _sentence_texts(reason)
        label = catalog["causes"][cause]["label"]
        likely = rule.outputs["likelihood"] == "likely"
        score = float(rule.outputs["score"])
        shown = round(min(max(score, 0.0), 1.0), 2)
        return _CauseRule(
            cause=cause,
            label=label,
            likely=likely,
            score=score,
            sentences=sentences,
            templates=templates,
            explanation=explanation,
            about=about,
            covered_by=covered_by,
            alone={
                "id": cause,
                "label": label,
                "likelihood": "likely" if likely else "possible",
                "score": shown,
                "explanation": explanation,
                "evidence": None,
            },
            evidence=self._evidence_of["causes"][rule.id].fields,
            key=self._cause_key(cause, likely, shown),
            lone=templates[0]
            if templates is not None and len(templates) == 1 and isinstance(templates[0], _Fill)
            else None,
        )

    def _cause_key(self, cause: str, likely: bool, score: float) -> int:
        """Where a cause's entry ranks, as one int to sort by: likely first, then the higher
        (shown) score, then the table's order. A shown score is a hundredth in [0, 1], so
        it takes one of 101 steps."""
        order = self._cause_order
        place = order.get(cause, len(order))
        steps = (0 if likely else 101) + 100 - round(score * 100)
        return steps * (len(order) + 1) + place

    def _suggestion(self, rule: CompiledRule, reason: _Text) -> _Suggestion:
        rec_id = str(rule.outputs["recommendation"])
        rec = self._recommendations[rec_id]
        return _Suggestion(
            recommendation=rec_id,
            type=rec.type,
            order=RECOMMENDATION_TYPES.index(rec.type),
            entry={
                "id": rec_id,
                "type": rec.type,
                "label": rec.label,
                "instructions": rec.instructions,
                "dose": rec.dose,
                "reason": reason if isinstance(reason, str) else "",
            },
            fill=None if isinstance(reason, str) else reason,
        )

    # ------------------------------------------------------------------ load-time checks
    @staticmethod
    def _check(ruleset: Ruleset) -> list[Finding]:
        """What this pipeline needs beyond what the engine's checker proves."""
        findings: list[Finding] = []

        def need(message: str, file: str = _CATALOG_FILE) -> None:
            findings.append(Finding(file, None, message))

        tables = {table.name: table for table in ruleset.tables}
        for name, outputs in _REQUIRED_OUTPUTS.items():
            table = tables.get(name)
            if table is None:
                need(f"the assessment needs a table named {name!r}", "ruleset.yaml")
                continue
            have = {out.name for out in table.outputs}
            for output in outputs:
                if output not in have:
                    need(f"table {name!r} needs an output {output!r}", table.file)
        urgency = tables.get("urgency")
        if urgency is not None and "level" in {o.name for o in urgency.outputs}:
            if set(urgency.output("level").values) != set(URGENCY_LEVELS):
                need("urgency levels must be exactly " + ", ".join(URGENCY_LEVELS), urgency.file)
            if not urgency.complete:
                need("the urgency table must be complete: true", urgency.file)
        catalog = ruleset.catalog
        sections = ("urgency", "red_flags", "causes", "recommendations", "questions")
        for section in (*sections, "warnings", "reasons"):
            if not isinstance(catalog.get(section), Mapping):
                need(f"catalog needs a section {section!r}")
        general = catalog.get("general")
        if not isinstance(general, Mapping) or not general.get("disclaimer"):
            need("catalog needs general.disclaimer")
        if findings:
            return findings
        for level in URGENCY_LEVELS:
            entry = catalog["urgency"].get(level)
            if (
                not isinstance(entry, Mapping)
                or not entry.get("label")
                or not entry.get("seek_care")
            ):
                need(f"urgency {level!r} needs a label and seek_care")
        for rec_id, entry in catalog["recommendations"].items():
            if rec_id in RECOMMENDATION_TYPES:
                # A contraindication blocks by id or by type: one name cannot be both.
                need(f"recommendation {rec_id!r} has the name of a type")
            if not isinstance(entry, Mapping) or entry.get("type") not in RECOMMENDATION_TYPES:
                need(f"recommendation {rec_id!r} needs a type: " + ", ".join(RECOMMENDATION_TYPES))
            elif not entry.get("label") or not entry.get("instructions"):
                need(f"recommendation {rec_id!r} needs a label and instructions")
            elif entry["type"] in ("stretch", "therapy") and not entry.get("dose"):
                need(f"{entry['type']} {rec_id!r} needs a dose")
        for section in ("red_flags", "causes"):
            for item_id, entry in catalog[section].items():
                if not isinstance(entry, Mapping) or not entry.get("label"):
                    need(f"{section} {item_id!r} needs a label")
        for item_id, entry in catalog["causes"].items():
            if isinstance(entry, Mapping) and not entry.get("explanation"):
                need(f"causes {item_id!r} needs an explanation")
        for code, entry in catalog["warnings"].items():
            if not isinstance(entry, Mapping) or not entry.get("message"):
                need(f"warning {code!r} needs a message")
        for field in catalog["questions"]:
            if field not in REQUEST_FIELDS:
                need(f"question for {field!r}, which is not a request field")
        for table in ruleset.tables:
            for rule in table.rules:
                for inp in rule.tests:
                    if inp in REQUEST_FIELDS and inp not in catalog["questions"]:
                        findings.append(
                            Finding(table.file, rule.id, f"no question text for {inp!r}")
                        )
                findings.extend(_placeholder_findings(table.file, rule, catalog))
        for name, output, section in _CATALOGUED:
            findings.extend(_catalog_findings(tables[name], output, catalog[section]))
        for rule in tables["causes"].rules:
            try:
                float(rule.outputs["score"])
            except (TypeError, ValueError):
                findings.append(Finding(tables["causes"].file, rule.id, "score must be a number"))
        for rule in tables["red_flags"].rules:
            if str(rule.outputs["level"]) not in _RANK:
                findings.append(
                    Finding(tables["red_flags"].file, rule.id, "level must be an urgency level")
                )
        return findings

    def _build_vocabulary(self) -> dict[str, Any]:
        catalog = self.ruleset.catalog
        urgency = [
            {
                "id": level,
                "rank": _RANK[level],
                "label": catalog["urgency"][level]["label"],
                "seek_care": " ".join(str(catalog["urgency"][level]["seek_care"]).split()),
            }
            for level in URGENCY_LEVELS
        ]
        red_flags = [
            {"id": flag, "label": catalog["red_flags"][flag]["label"]}
            for flag in self._tables["red_flags"].output("flag").values
        ]
        causes = [
            {"id": cause, "label": catalog["causes"][cause]["label"]}
            for cause in self._tables["causes"].output("cause").values
        ]
        recommendations = [
            {"id": rec_id, "type": rec.type, "label": rec.label}
            for rec_id, rec in self._recommendations.items()
        ]
        warnings = [
            {"id": code, "label": " ".join(str(catalog["warnings"][code]["message"]).split())}
            for code in self._tables["warnings"].output("code").values
        ]
        questions = [{"id": field, "label": text} for field, text in self._questions.items()]
        return {
            "urgency": urgency,
            "red_flags": red_flags,
            "causes": causes,
            "likelihood": [
                {"id": "likely", "label": "Likely"},
                {"id": "possible", "label": "Possible"},
            ],
            "recommendations": recommendations,
            "warnings": warnings,
            "questions": questions,
        }

    # ------------------------------------------------------------------ public surface
    def describe(self) -> dict[str, Any]:
        """The body of ``GET /rules``: the ruleset's description plus the vocabulary of every id
        the service can return, with labels, by kind."""
        body = dict(self.ruleset.describe())
        # A copy: the Assessor is shared between threads, and a caller may edit what it gets.
        body["vocabulary"] = copy.deepcopy(self._vocabulary)
        return body

    def assess(
        self,
        request: Mapping[str, Any],
        *,
        explain: bool = False,
        fired: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Assess one validated request (nested, as loaded by the schema; ``None`` or absent
        means unanswered). Returns the ``Assessment`` body without ``id``; ``trace`` is added
        only when ``explain`` is true. ``fired``, when given, receives ``(table, rule id)`` for
        every rule that matched (for the ``popcheck_rule_hits_total`` metric).

        Raises:
            service.facts.UnknownFieldError: the request holds a field outside the contract.
            service.engine.EvaluationError: a fact does not fit its declared type.
        """
        facts = to_facts(request)
        trace = None
        if explain:
            evaluation = self._evaluator.explain(facts)
            results, trace = evaluation.results, evaluation.trace
        else:
            results = self._evaluate(facts)
        if fired is not None:
            for table, result in results.items():
                for match in result.matches:
                    fired.append((table, match.rule_id))
        body = self._assemble(results, facts)
        if explain:
            body["trace"] = trace or []
        return body

    # ------------------------------------------------------------------ assembly
    def _build_assembly(self) -> _Assembly:
        """The assembly as one function over this ruleset's prepared data.

        One frame per request instead of one per section (and per cause, text and evidence
        list), every table, lookup and text bound as a closure variable instead of an
        attribute of ``self``: on the shipped rules that is about 1.5 µs warm and 2 µs right
        after a Flask request. Only the rare paths (several red flags, several rules for one
        cause, evidence through a chained table) stay in their own methods.
        """
        reference = self._reference
        disclaimer = self._disclaimer
        seek_care = self._seek_care
        reasoning = self._reasoning
        said_by = reasoning["urgency"]
        flag_rules = self._flag_rules
        cause_rules = self._cause_rules
        suggestions = self._suggestions
        blocks = self._blocks
        warning_rules = self._warning_rules
        raising = self._raising
        question_entries = self._question_entries
        evidence = self._evidence
        ranked_flags = self._ranked_flags
        merged_cause = self._cause
        lowest = URGENCY_LEVELS[0]

        def assemble(
            results: Mapping[str, TableResult], facts: Mapping[str, Any]
        ) -> dict[str, Any]:
            # ---- urgency: the level the table chose, with the reasons of the rules that gave
            # it. A level that arrived through a chained table (the red flags) is explained by
            # the rules of that table that gave the same level: they name the person's answers.
            result = results["urgency"]
            level = str(result.value["level"]) if result.value else lowest
            reasons: list[str] = []
            rules: list[str] = []
            for match in result.matches:
                said = said_by[match.rule_id]
                if said.level != level:
                    continue
                found = False
                for name in said.upstream:
                    theirs = reasoning[name]
                    for source in results[name].matches:
                        upstream = theirs[source.rule_id]
                        text = upstream.reason
                        if text is not None and upstream.level == level:
                            reasons.append(
                                text if isinstance(text, str) else text.render(facts, results)
                            )
                            rules.append(source.rule_id)
                            found = True
                if not found and (text := said.reason) is not None:
                    reasons.append(text if isinstance(text, str) else text.render(facts, results))
                    rules.append(match.rule_id)
            current = _RANK[level]

            # ---- red flags: one (the usual case) needs no grouping or ranking.
            matches = results["red_flags"].matches
            red_flags: list[dict[str, Any]]
            if not matches:
                red_flags = []
            elif len(matches) == 1:
                flag = flag_rules[matches[0].rule_id]
                fields = flag.evidence
                red_flags = [
                    {
                        "id": flag.flag,
                        "label": flag.label,
                        "evidence": list(fields)
                        if fields is not None
                        else evidence("red_flags", matches, results),
                    }
                ]
            else:
                red_flags = ranked_flags(matches, results)

            # ---- causes: grouped by cause; a cause named by one rule takes that rule's
            # prepared entry, ranked by one int key.
            matches = results["causes"].matches
            causes: list[dict[str, Any]]
            if not matches:
                causes = []
            else:
                by_cause: dict[str, list[Match]] = {}
                for match in matches:
                    cause = cause_rules[match.rule_id].cause
                    group = by_cause.get(cause)
                    if group is None:
                        by_cause[cause] = [match]
                    else:
                        group.append(match)
                ranked: list[tuple[int, dict[str, Any]]] = []
                for group in by_cause.values():
                    if len(group) != 1:
                        ranked.append(merged_cause(group, results, facts))
                        continue
                    rule = cause_rules[group[0].rule_id]
                    entry = rule.alone.copy()
                    if (lone := rule.lone) is not None:
                        entry["explanation"] = f"{lone.render(facts, results)} {rule.about}"
                    elif rule.templates is not None:  # its reason quotes an answer
                        because = [
                            text if isinstance(text, str) else text.render(facts, results)
                            for text in rule.templates
                        ]
                        entry["explanation"] = " ".join([*dict.fromkeys(because), rule.about])
                    fields = rule.evidence
                    entry["evidence"] = (
                        list(fields) if fields is not None else evidence("causes", group, results)
                    )
                    ranked.append((rule.key, entry))
                if len(ranked) == 1:
                    causes = [ranked[0][1]]
                else:
                    ranked.sort(key=_FIRST)  # the keys differ: each cause has its own place
                    causes = [entry for _key, entry in ranked]

            # ---- recommendations: what is blocked, by id or type; a chosen id joins it, so a
            # later match for the same recommendation is skipped by the same look-up (no id is
            # also a type: refused at load). One list per type, in RECOMMENDATION_TYPES order
            # (a rule's ``order``); within a type, the table's order.
            skip = {blocks[match.rule_id] for match in results["contraindications"].matches}
            referral: list[dict[str, Any]] = []
            precaution: list[dict[str, Any]] = []
            therapy: list[dict[str, Any]] = []
            stretch: list[dict[str, Any]] = []
            by_type = (referral, precaution, therapy, stretch)
            for match in results["recommendations"].matches:
                suggestion = suggestions[match.rule_id]
                rec_id = suggestion.recommendation
                if rec_id in skip or suggestion.type in skip:
                    continue
                skip.add(rec_id)
                entry = suggestion.entry.copy()
                if (fill := suggestion.fill) is not None:
                    entry["reason"] = fill.render(facts, results)
                by_type[suggestion.order].append(entry)

            # ---- questions: per unanswered field of a rule that would raise the urgency, one
            # int key (rank base + catalog place), the lowest seen.
            keys: dict[str, int] = {}
            seen = keys.get
            for name, by_current in raising:
                askers = by_current[current]
                if not askers:
                    continue
                for partial in results[name].partial:
                    asks = askers.get(partial.rule_id)
                    if asks is None:
                        continue
                    for missing in partial.missing:
                        key = asks[0].get(missing)
                        if key is not None:
                            if key < seen(missing, _NO_QUESTION):
                                keys[missing] = key
                            continue
                        for field, key in asks[1].get(missing, ()):
                            if key < seen(field, _NO_QUESTION) and facts.get(field) is None:
                                keys[field] = key

            # ---- warnings: one per code, the first rule's.
            matches = results["warnings"].matches
            warnings: list[dict[str, Any]] = []
            if matches:
                codes: set[str] = set()
                for match in matches:
                    warning = warning_rules[match.rule_id]
                    if warning.code in codes:
                        continue
                    codes.add(warning.code)
                    text = warning.message
                    warnings.append(
                        {
                            "code": warning.code,
                            "message": text
                            if isinstance(text, str)
                            else text.render(facts, results),
                            "fields": evidence("warnings", (match,), results),
                        }
                    )

            return {
                "ruleset": reference.copy(),
                "urgency": {
                    "level": level,
                    "rank": current,
                    "seek_care": seek_care[level],
                    "reasons": list(dict.fromkeys(reasons)),
                    "rule": rules[0] if rules else "",
                },
                "red_flags": red_flags,
                "causes": causes,
                "recommendations": [*referral, *precaution, *therapy, *stretch],
                "questions": [question_entries[key].copy() for key in sorted(keys.values())],
                "warnings": warnings,
                "disclaimer": disclaimer,
            }

        return assemble

    def _evidence(
        self, table: str, matches: Sequence[Match], results: Mapping[str, TableResult]
    ) -> list[str]:
        """The request fields the matched rules tested: derived facts become the fields they
        are computed from, chained inputs the fields tested by the rules they came from."""
        if len(matches) == 1:
            fields = self._evidence_of[table][matches[0].rule_id].fields
            if fields is not None:
                return list(fields)
        out: list[str] = []
        self._collect_evidence(table, matches, results, out)
        return list(dict.fromkeys(out))

    def _collect_evidence(
        self,
        table: str,
        matches: Sequence[Match],
        results: Mapping[str, TableResult],
        out: list[str],
    ) -> None:
        prepared = self._evidence_of[table]
        for match in matches:
            evidence = prepared[match.rule_id]
            if evidence.fields is not None:
                out.extend(evidence.fields)
                continue
            for part in evidence.parts:
                if isinstance(part, tuple):
                    out.extend(part)
                elif (upstream := results.get(part)) is not None:
                    self._collect_evidence(part, upstream.matches, results, out)

    def _ranked_flags(
        self, matches: Sequence[Match], results: Mapping[str, TableResult]
    ) -> list[dict[str, Any]]:
        """Two or more red-flag matches: one entry per flag, most severe first; the table's
        own order breaks ties."""
        prepared = self._flag_rules
        by_flag: dict[str, list[Match]] = {}
        top: dict[str, int] = {}
        for match in matches:
            rule = prepared[match.rule_id]
            group = by_flag.get(rule.flag)
            if group is None:
                by_flag[rule.flag] = [match]
                top[rule.flag] = rule.rank
            else:
                group.append(match)
                top[rule.flag] = max(top[rule.flag], rule.rank)
        if len(by_flag) == 1:
            ranked = list(by_flag)
        else:
            order = self._flag_order
            ranked = sorted(by_flag, key=lambda flag: (-top[flag], order.get(flag, len(order))))
        return [
            {
                "id": flag,
                "label": prepared[by_flag[flag][0].rule_id].label,
                "evidence": self._evidence("red_flags", by_flag[flag], results),
            }
            for flag in ranked
        ]

    def _cause(
        self,
        group: list[Match],
        results: Mapping[str, TableResult],
        facts: Mapping[str, Any],
    ) -> tuple[int, dict[str, Any]]:
        """A cause's entry and its rank key, from the matched rules that name it."""
        prepared = self._cause_rules
        first = prepared[group[0].rule_id]
        if len(group) == 1:
            entry = dict(first.alone)
            if first.explanation is None:
                because = _because(first, facts, results)
                entry["explanation"] = " ".join([*dict.fromkeys(because), first.about])
            fields = first.evidence
            if fields is None:
                entry["evidence"] = self._evidence("causes", group, results)
            else:
                entry["evidence"] = list(fields)
            return first.key, entry
        likely = False
        ids = {match.rule_id for match in group}
        sentences: list[str] = []
        for match in group:
            rule = prepared[match.rule_id]
            likely = likely or rule.likely
            # A rule replaced by a more specific match for the same cause says nothing new.
            if rule.covered_by.isdisjoint(ids):
                sentences.extend(_because(rule, facts, results))
        score = round(
            min(max(max([prepared[match.rule_id].score for match in group]), 0.0), 1.0), 2
        )
        return self._cause_key(first.cause, likely, score), {
            "id": first.cause,
            "label": first.label,
            "likelihood": "likely" if likely else "possible",
            "score": score,
            "explanation": " ".join([*dict.fromkeys(sentences), first.about]),
            "evidence": self._evidence("causes", group, results),
        }

    @staticmethod
    def _raising_rules(table: CompiledTable, questions: int) -> tuple[dict[str, int], ...]:
        top = len(URGENCY_LEVELS) - 1
        ranks = {rule.id: _RANK.get(str(rule.outputs.get("level")), -1) for rule in table.rules}
        return tuple(
            {rule_id: (top - rank) * questions for rule_id, rank in ranks.items() if rank > current}
            for current in range(len(URGENCY_LEVELS))
        )

    @staticmethod
    def _question_fields(name: str) -> Sequence[str]:
        return DERIVED_SOURCES.get(name, (name,))


def load_assessor(rules_dir: Path) -> Assessor:
    """Load, check and compile the rules in ``rules_dir`` and prepare an ``Assessor``.

    Raises:
        service.engine.RuleError: the ruleset is broken (one line per finding).
    """
    return Assessor(load_ruleset(Path(rules_dir), FACTS))
