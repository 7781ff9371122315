"""What the assessment needs of a ruleset beyond what the engine's checker proves.

Every id a rule can give must have its catalog entry, and every text may quote only answers
its rule tested, so that a match can never fail a request: whatever is wrong is found here,
when the rules are loaded, and the service refuses to start.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from popcheck.assessment.prepared import DOSED, RANK, RECOMMENDATION_TYPES, URGENCY_LEVELS
from popcheck.assessment.texts import DOSE_KEYS, Text
from popcheck.engine import CompiledTable, FactType, Finding, Ruleset
from popcheck.facts import FACTS, REQUEST_FIELDS

__all__ = ["ruleset_findings"]

_CATALOG_FILE: Final = "catalog.yaml"

# The tables the assessment reads, and the outputs it needs from each.
_REQUIRED_OUTPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "red_flags": ("flag", "level", "reason"),
    "causes": ("cause", "score", "likelihood", "reason"),
    "urgency": ("level", "reason"),
    "recommendations": ("recommendation", "reason"),
    "contraindications": ("blocks", "reason"),
    "warnings": ("code",),
}
_SECTIONS: Final = (
    "urgency",
    "red_flags",
    "causes",
    "recommendations",
    "questions",
    "warnings",
    "reasons",
)
# The catalog section each id the answer shows is looked up in, by table and output.
_CATALOGUED: Final = (
    ("red_flags", "flag", "red_flags"),
    ("causes", "cause", "causes"),
    ("recommendations", "recommendation", "recommendations"),
    ("warnings", "code", "warnings"),
)

# The keys each kind of catalog entry may hold: any other key would be silently ignored.
_ENTRY_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "urgency": frozenset({"label", "seek_care"}),
    "red_flags": frozenset({"label", "explanation", "explanation_weak"}),
    "causes": frozenset({"label", "explanation", "explains"}),
    "recommendations": frozenset({"type", "label", "instructions", "dose"}),
    "warnings": frozenset({"message"}),
}
_GENERAL_KEYS: Final = frozenset({"disclaimer", "cause_beside_red_flag", "while_questions_open"})
_PLACEHOLDER_HELP: Final = (
    "write {name} only around the name of an answer the rule tests, e.g. {pain.level}; "
    "to show a brace itself, double it: {{ or }}"
)

Need = Callable[..., None]


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``name`` is close to one of ``known``, else ``""``."""
    close = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fields(text: object) -> tuple[str, ...] | str:
    """The names a catalog text quotes, or why it cannot be read."""
    try:
        return Text.parse(str(text), {}).fields
    except ValueError as exc:
        return f"{exc}: {_PLACEHOLDER_HELP}"


def _keys(section: str, entry_id: str, entry: Any, need: Need) -> None:
    """An entry of ``section`` holds only the keys the answer reads."""
    if not isinstance(entry, Mapping):
        return
    known = _ENTRY_KEYS[section]
    for key in sorted(set(map(str, entry)) - known):
        hint = did_you_mean(key, known) or f" (known: {', '.join(sorted(known))})"
        need(f"{section} {entry_id!r}: unknown key {key!r}{hint}")


def _texts(catalog: Mapping[str, Any], need: Need) -> None:
    """Every reason and warning text can be read, and quotes only facts that exist."""
    texts = [(f"reason {key!r}", text) for key, text in catalog["reasons"].items()]
    texts += [
        (f"warning {code!r}", entry.get("message", ""))
        for code, entry in catalog["warnings"].items()
        if isinstance(entry, Mapping)
    ]
    for key, text in catalog["reasons"].items():
        if not isinstance(text, str):
            need(f"reason {key!r} must be a text")
    for what, text in texts:
        fields = _fields(text)
        if isinstance(fields, str):
            need(f"{what}: {fields}")
            continue
        for name in fields:
            if name not in FACTS and "." not in name:
                need(f"{what} quotes {{{name}}}, which is not an input{did_you_mean(name, FACTS)}")


def _structure(ruleset: Ruleset, need: Need) -> None:
    """The tables and outputs the assessment reads, and the catalog's sections."""
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
    for section in _SECTIONS:
        if not isinstance(catalog.get(section), Mapping):
            need(f"catalog needs a section {section!r}")
    general = catalog.get("general")
    if not isinstance(general, Mapping) or not general.get("disclaimer"):
        need("catalog needs general.disclaimer")
    elif not general.get("cause_beside_red_flag"):
        need("catalog needs general.cause_beside_red_flag")


def _shapes(catalog: Mapping[str, Any], need: Need) -> None:
    """Each entry is a mapping of the keys the answer reads, and no other."""
    for section, known in _ENTRY_KEYS.items():
        for entry_id, entry in catalog[section].items():
            if not isinstance(entry, Mapping):
                keys = ", ".join(sorted(known))
                need(f"{section} {entry_id!r} must be a mapping ({keys}), not a plain text")
            _keys(section, str(entry_id), entry, need)
    for key in sorted(set(map(str, catalog["general"])) - _GENERAL_KEYS):
        need(f"general: unknown key {key!r}{did_you_mean(key, _GENERAL_KEYS)}")


def _recommendations(catalog: Mapping[str, Any], need: Need) -> None:
    for rec_id, entry in catalog["recommendations"].items():
        if rec_id in RECOMMENDATION_TYPES:
            # A contraindication blocks by id or by type: one name cannot be both.
            need(f"recommendation {rec_id!r} has the name of a type")
        if not isinstance(entry, Mapping):
            continue  # reported by _shapes
        if entry.get("type") not in RECOMMENDATION_TYPES:
            need(f"recommendation {rec_id!r} needs a type: " + ", ".join(RECOMMENDATION_TYPES))
        elif not entry.get("label") or not entry.get("instructions"):
            need(f"recommendation {rec_id!r} needs a label and instructions")
        elif entry["type"] in DOSED and not entry.get("dose"):
            need(f"{entry['type']} {rec_id!r} needs a dose")
        elif "dose" in entry:
            _dose(rec_id, entry["type"], entry["dose"], need)


def _entries(catalog: Mapping[str, Any], need: Need) -> None:
    """Each catalog entry has what the answer shows of it."""
    _shapes(catalog, need)
    _texts(catalog, need)
    for level in URGENCY_LEVELS:
        entry = catalog["urgency"].get(level)
        if entry is not None and not isinstance(entry, Mapping):
            continue  # reported by _shapes
        if not isinstance(entry, Mapping) or not entry.get("label") or not entry.get("seek_care"):
            need(f"urgency {level!r} needs a label and seek_care")
    _recommendations(catalog, need)
    for section in ("red_flags", "causes"):
        for item_id, entry in catalog[section].items():
            if not isinstance(entry, Mapping):
                continue
            if not entry.get("label"):
                need(f"{section} {item_id!r} needs a label")
            elif not entry.get("explanation"):
                need(f"{section} {item_id!r} needs an explanation")
    for item_id, entry in catalog["causes"].items():
        explains = entry.get("explains", []) if isinstance(entry, Mapping) else []
        if not isinstance(explains, list) or not set(explains) <= set(catalog["red_flags"]):
            need(f"causes {item_id!r}: explains must list red flag ids")
    for code, entry in catalog["warnings"].items():
        if isinstance(entry, Mapping) and not entry.get("message"):
            need(f"warning {code!r} needs a message")
    _questions(catalog["questions"], need)
    _while_questions_open(catalog, need)


def _dose(rec_id: str, kind: str, dose: Any, need: Need) -> None:
    """A dose is a mapping of ``DOSE_KEYS`` to whole numbers of at least 1, on a stretch or a
    therapy only: a misspelled key would silently drop part of the dose."""
    if kind not in DOSED:
        need(f"{kind} {rec_id!r} has a dose; only " + " and ".join(DOSED) + " do")
        return
    if not isinstance(dose, Mapping):
        need(f"{kind} {rec_id!r}: dose must be a mapping")
        return
    for key, value in dose.items():
        if key not in DOSE_KEYS:
            need(f"{kind} {rec_id!r}: unknown dose key {key!r} (known: {', '.join(DOSE_KEYS)})")
        elif type(value) is not int or value < 1:
            need(f"{kind} {rec_id!r}: dose {key} must be a whole number of at least 1")


def _questions(questions: Mapping[str, Any], need: Need) -> None:
    """Each question is a text, or ``{text, follows}``; a follow-up's leads are yes/no
    questions of their own, and no question follows itself, even through others."""
    leads_of: dict[str, list[str]] = {}
    for field, entry in questions.items():
        if field not in REQUEST_FIELDS:
            need(f"question for {field!r}, which is not a request field")
        if not isinstance(entry, Mapping):
            if not isinstance(entry, str) or not entry.strip():
                need(f"question {field!r} needs a text")
            continue
        if unknown := set(entry) - {"text", "follows"}:
            need(f"question {field!r}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        if not isinstance(entry.get("text"), str) or not entry["text"].strip():
            need(f"question {field!r} needs a text")
        if "follows" not in entry:
            continue
        follows = entry["follows"]
        leads = [follows] if isinstance(follows, str) else follows
        if not isinstance(leads, list) or not leads:
            need(f"question {field!r}: follows must name one lead question or a list of them")
            continue
        leads_of[field] = [str(lead) for lead in leads]
        for lead in leads_of[field]:
            if lead not in questions or lead not in FACTS:
                need(f"question {field!r} follows {lead!r}, which has no question")
            elif FACTS[lead].type is not FactType.BOOL:
                need(f"question {field!r} follows {lead!r}, which is not a yes/no question")
    for field in leads_of:
        seen: set[str] = set()
        todo = list(leads_of[field])
        while todo:
            lead = todo.pop()
            if lead == field:
                need(f"question {field!r} follows itself")
                break
            if lead not in seen:
                seen.add(lead)
                todo += leads_of.get(lead, [])


def _while_questions_open(catalog: Mapping[str, Any], need: Need) -> None:
    """``general.while_questions_open`` maps a reason to the one shown instead while a
    question is open; both are fixed texts (they are swapped after rendering)."""
    swaps = catalog["general"].get("while_questions_open") or {}
    if not isinstance(swaps, Mapping):
        need("general.while_questions_open must map reasons to reasons")
        return
    for key, instead in swaps.items():
        for reason in (key, instead):
            text = catalog["reasons"].get(reason)
            if not isinstance(text, str):
                need(f"general.while_questions_open names {reason!r}, which is not a reason")
            elif _fields(text):
                need(f"general.while_questions_open: reason {reason!r} must quote no answer")


def _rules(ruleset: Ruleset) -> list[Finding]:
    """Each rule's questions, texts, catalogued ids, score and level."""
    catalog = ruleset.catalog
    tables = {table.name: table for table in ruleset.tables}
    findings: list[Finding] = []
    for table in ruleset.tables:
        for rule in table.rules:
            for name in rule.tests:
                if name in REQUEST_FIELDS and name not in catalog["questions"]:
                    findings.append(Finding(table.file, rule.id, f"no question text for {name!r}"))
            if "reason" in rule.outputs:
                text = catalog["reasons"].get(rule.outputs["reason"], "")
            elif "code" in rule.outputs:
                entry = catalog["warnings"].get(rule.outputs["code"])
                text = entry.get("message", "") if isinstance(entry, Mapping) else ""
            else:
                continue
            fields = _fields(text)
            if isinstance(fields, str):
                continue  # the text cannot be read: reported once, for the catalog
            # A text may quote only answers its rule tested: those are answered when it shows.
            for quoted in fields:
                if quoted not in rule.tests:
                    hint = did_you_mean(quoted, rule.tests)
                    message = (
                        f"text quotes {quoted!r}, which this rule does not test{hint}; "
                        "quote only answers the rule tests (they are answered when it shows)"
                    )
                    findings.append(Finding(table.file, rule.id, message))
    for name, output, section in _CATALOGUED:
        findings += _uncatalogued(tables[name], output, catalog[section])
    causes, red_flags = tables["causes"], tables["red_flags"]
    for rule in causes.rules:
        try:
            float(rule.outputs["score"])
        except (TypeError, ValueError):
            findings.append(Finding(causes.file, rule.id, "score must be a number"))
    for rule in red_flags.rules:
        if str(rule.outputs["level"]) not in RANK:
            findings.append(Finding(red_flags.file, rule.id, "level must be an urgency level"))
        flag = catalog["red_flags"].get(str(rule.outputs["flag"]))
        if rule.outputs.get("weak_alone") is True and not (
            isinstance(flag, Mapping) and flag.get("explanation_weak")
        ):
            message = "weak_alone, but the flag's catalog entry has no explanation_weak"
            findings.append(Finding(red_flags.file, rule.id, message))
    return findings


def _uncatalogued(table: CompiledTable, output: str, section: Mapping[str, Any]) -> list[Finding]:
    return [
        Finding(table.file, rule.id, f"{output} {value!r} has no entry in the catalog")
        for rule in table.rules
        if (value := str(rule.outputs[output])) not in section
    ]


def ruleset_findings(ruleset: Ruleset) -> list[Finding]:
    """Every reason ``ruleset`` cannot serve assessments (empty when it can)."""
    findings: list[Finding] = []

    def need(message: str, file: str = _CATALOG_FILE) -> None:
        findings.append(Finding(file, None, message))

    _structure(ruleset, need)
    if findings:
        return findings
    _entries(ruleset.catalog, need)
    return findings + _rules(ruleset)
