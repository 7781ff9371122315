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

Everything that does not depend on the request (templates, labels, doses, the vocabulary)
is prepared once in ``Assessor.__init__``.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from service.engine import (
    CompiledRule,
    Evaluation,
    Finding,
    Match,
    RuleError,
    Ruleset,
    TableResult,
    evaluate,
    load_ruleset,
)
from service.facts import DERIVED_SOURCES, FACTS, REQUEST_FIELDS, to_facts

__all__ = ["URGENCY_LEVELS", "Assessor", "load_assessor"]

URGENCY_LEVELS: Final[tuple[str, ...]] = ("self_care", "routine", "soon", "urgent", "emergency")
"""The contract's urgency levels, lowest first; the index is the ``rank``."""

RECOMMENDATION_TYPES: Final[tuple[str, ...]] = ("referral", "precaution", "therapy", "stretch")
"""Recommendation types in the order they are listed: what to do first comes first."""

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

    def render(self, values: Mapping[str, Any]) -> str:
        out: list[str] = []
        for literal, field in self.parts:
            out.append(literal)
            if field:
                out.append(_show(values.get(field)))
        return "".join(out)


def _show(value: Any) -> str:
    """A fact value as a person reads it: ``7`` not ``7.0``; never ``None``."""
    if value is None:
        return "(not answered)"
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


def _sentences(text: str) -> list[str]:
    """Split a rendered catalog text after each full stop (the catalog's texts are plain
    sentences; none contains an abbreviation with a dot)."""
    parts = text.split(". ")
    return [part if part.endswith(".") else f"{part}." for part in parts[:-1]] + parts[-1:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _most_specific(matches: Sequence[Match]) -> list[Match]:
    """Drop a match whose tested inputs are a strict subset of another's: "pain below the
    knee" says nothing that "pain below the knee, with numbness" does not already say."""
    tested = [frozenset(m.tested) for m in matches]
    return [
        match
        for match, mine in zip(matches, tested, strict=True)
        if not any(mine < other for other in tested)
    ]


@dataclass(frozen=True)
class _Recommendation:
    type: str
    label: str
    instructions: str
    dose: str | None


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
        self._reasons = {key: _Template.parse(text) for key, text in catalog["reasons"].items()}
        self._warnings = {
            code: _Template.parse(entry["message"]) for code, entry in catalog["warnings"].items()
        }
        self._questions: dict[str, str] = {
            field: " ".join(str(text).split()) for field, text in catalog["questions"].items()
        }
        # Catalog order breaks ties between questions at the same level, so the authors put
        # saddle numbness and bladder or bowel change first.
        self._question_order = {field: i for i, field in enumerate(self._questions)}
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
        # For the questions, per request: the rank each rule of a level table gives (a
        # partial match's outputs are its rule's), and the asked request fields per fact.
        self._partial_ranks = tuple(
            (
                name,
                {
                    rule.id: _RANK.get(str(rule.outputs.get("level")), -1)
                    for rule in self._tables[name].rules
                },
            )
            for name in self._level_tables
        )
        self._asked_fields = {
            fact: tuple(field for field in self._question_fields(fact) if field in self._questions)
            for fact in FACTS
        }
        self._vocabulary = self._build_vocabulary()

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
        evaluation = evaluate(self.ruleset, facts, explain=explain)
        results = evaluation.results
        if fired is not None:
            fired.extend(
                (table, match.rule_id)
                for table, result in results.items()
                for match in result.matches
            )
        values = self._template_values(facts, evaluation)
        urgency = self._urgency(results, values)
        body: dict[str, Any] = {
            "ruleset": {
                "name": self.ruleset.name,
                "version": self.ruleset.version,
                "digest": self.ruleset.digest,
            },
            "urgency": urgency,
            "red_flags": self._red_flags(results),
            "causes": self._causes(results, values),
            "recommendations": self._recommendations_for(results, values),
            "questions": self._questions_for(results, facts, urgency["rank"]),
            "warnings": self._warnings_for(results, values),
            "disclaimer": self._disclaimer,
        }
        if explain:
            body["trace"] = evaluation.trace or []
        return body

    # ------------------------------------------------------------------ assembly
    def _template_values(self, facts: Mapping[str, Any], evaluation: Evaluation) -> dict[str, Any]:
        values = dict(facts)
        for name, result in evaluation.results.items():
            if isinstance(result.value, int | float | str) and not isinstance(result.value, bool):
                for out in self._tables[name].outputs:
                    values[f"{name}.{out.name}"] = result.value
        return values

    def _evidence(self, matches: Iterable[Match], results: Mapping[str, TableResult]) -> list[str]:
        """The request fields the matched rules tested: derived facts become the fields they
        are computed from, chained inputs the fields tested by the rules they came from."""
        fields: list[str] = []
        for match in matches:
            for name in match.tested:
                fields.extend(self._fields_of(name, results))
        return _unique(fields)

    def _fields_of(self, name: str, results: Mapping[str, TableResult]) -> list[str]:
        if name in DERIVED_SOURCES:
            return list(DERIVED_SOURCES[name])
        if name in FACTS:
            return [name]
        table = name.split(".", 1)[0]
        if table in results:
            return self._evidence(results[table].matches, results)
        return []

    def _reason(self, key: str, values: Mapping[str, Any]) -> str:
        template = self._reasons.get(key)
        return template.render(values) if template is not None else key

    def _urgency(
        self, results: Mapping[str, TableResult], values: Mapping[str, Any]
    ) -> dict[str, Any]:
        result = results["urgency"]
        level = str(result.value["level"]) if result.value else URGENCY_LEVELS[0]
        winners = [m for m in result.matches if m.outputs["level"] == level]
        reasons: list[str] = []
        rules: list[str] = []
        for match in winners:
            # A level that arrived through a chained table (the red flags) is explained by
            # the rules of that table that gave the same level: they name the person's answers.
            upstream = [
                results[name.split(".", 1)[0]]
                for name in match.tested
                if name.split(".", 1)[0] in results
            ]
            found = False
            for table_result in upstream:
                for source in table_result.matches:
                    if source.outputs.get("level") == level and "reason" in source.outputs:
                        reasons.append(str(source.outputs["reason"]))
                        rules.append(source.rule_id)
                        found = True
            if not found:
                reasons.append(str(match.outputs["reason"]))
                rules.append(match.rule_id)
        return {
            "level": level,
            "rank": _RANK[level],
            "seek_care": self._seek_care[level],
            "reasons": _unique(self._reason(key, values) for key in reasons),
            "rule": rules[0] if rules else "",
        }

    def _red_flags(self, results: Mapping[str, TableResult]) -> list[dict[str, Any]]:
        by_flag: dict[str, list[Match]] = {}
        for match in results["red_flags"].matches:
            by_flag.setdefault(str(match.outputs["flag"]), []).append(match)

        def severity(flag: str) -> tuple[int, int]:
            top = max(_RANK[str(m.outputs["level"])] for m in by_flag[flag])
            return (-top, self._flag_order.get(flag, len(self._flag_order)))

        return [
            {
                "id": flag,
                "label": self.ruleset.catalog["red_flags"][flag]["label"],
                "evidence": self._evidence(by_flag[flag], results),
            }
            for flag in sorted(by_flag, key=severity)
        ]

    def _causes(
        self, results: Mapping[str, TableResult], values: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        by_cause: dict[str, list[Match]] = {}
        for match in results["causes"].matches:
            by_cause.setdefault(str(match.outputs["cause"]), []).append(match)
        causes: list[dict[str, Any]] = []
        for cause, matches in by_cause.items():
            entry = self.ruleset.catalog["causes"][cause]
            # Sentence by sentence, so two matched combinations that share a finding
            # do not say it twice.
            because = _unique(
                sentence
                for m in _most_specific(matches)
                for sentence in _sentences(self._reason(str(m.outputs["reason"]), values))
            )
            general = self._explanations[cause]
            likely = any(m.outputs["likelihood"] == "likely" for m in matches)
            score = max(float(m.outputs["score"]) for m in matches)
            causes.append(
                {
                    "id": cause,
                    "label": entry["label"],
                    "likelihood": "likely" if likely else "possible",
                    "score": round(min(max(score, 0.0), 1.0), 2),
                    "explanation": " ".join([*because, general]),
                    "evidence": self._evidence(matches, results),
                }
            )
        causes.sort(
            key=lambda c: (
                c["likelihood"] != "likely",
                -c["score"],
                self._cause_order.get(c["id"], len(self._cause_order)),
            )
        )
        return causes

    def _recommendations_for(
        self, results: Mapping[str, TableResult], values: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        blocked = {str(m.outputs["blocks"]) for m in results["contraindications"].matches}
        chosen: dict[str, str] = {}
        for match in results["recommendations"].matches:
            rec_id = str(match.outputs["recommendation"])
            rec = self._recommendations[rec_id]
            if rec_id in blocked or rec.type in blocked or rec_id in chosen:
                continue
            chosen[rec_id] = self._reason(str(match.outputs["reason"]), values)
        order = {kind: i for i, kind in enumerate(RECOMMENDATION_TYPES)}
        ranked = sorted(chosen, key=lambda rec_id: order[self._recommendations[rec_id].type])
        return [
            {
                "id": rec_id,
                "type": self._recommendations[rec_id].type,
                "label": self._recommendations[rec_id].label,
                "instructions": self._recommendations[rec_id].instructions,
                "dose": self._recommendations[rec_id].dose,
                "reason": chosen[rec_id],
            }
            for rec_id in ranked
        ]

    def _questions_for(
        self, results: Mapping[str, TableResult], facts: Mapping[str, Any], current: int
    ) -> list[dict[str, str]]:
        raises_to: dict[str, int] = {}
        asked = self._asked_fields
        for name, ranks in self._partial_ranks:
            for partial in results[name].partial:
                rank = ranks.get(partial.rule_id, -1)
                if rank <= current:
                    continue
                for missing in partial.missing:
                    for field in asked.get(missing, ()):
                        if facts.get(field) is None and raises_to.get(field, -1) < rank:
                            raises_to[field] = rank
        ordered = sorted(
            raises_to, key=lambda field: (-raises_to[field], self._question_order[field])
        )
        return [{"field": field, "text": self._questions[field]} for field in ordered]

    @staticmethod
    def _question_fields(name: str) -> Sequence[str]:
        return DERIVED_SOURCES.get(name, (name,))

    def _warnings_for(
        self, results: Mapping[str, TableResult], values: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        warnings: dict[str, dict[str, Any]] = {}
        for match in results["warnings"].matches:
            code = str(match.outputs["code"])
            if code in warnings:
                continue
            warnings[code] = {
                "code": code,
                "message": self._warnings[code].render(values),
                "fields": self._evidence([match], results),
            }
        return list(warnings.values())


def load_assessor(rules_dir: Path) -> Assessor:
    """Load, check and compile the rules in ``rules_dir`` and prepare an ``Assessor``.

    Raises:
        service.engine.RuleError: the ruleset is broken (one line per finding).
    """
    return Assessor(load_ruleset(Path(rules_dir), FACTS))
