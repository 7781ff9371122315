"""Each section of an answer as one plain function of what was prepared at load (``Prepared``)
and what the engine returned for this request (``results``, by table) from the ``facts``.

The tables decide; these functions only gather what they decided, in the contract's shape,
with the catalog's texts. The safety rules that are cheaper to hold once here than to trust
to every table: the urgency is the one level the complete ``urgency`` table chose; a
recommendation blocked by any contraindication is dropped whichever rule suggested it; only
a question whose answer could *raise* the urgency is asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.assessment.prepared import (
    RANK,
    RECOMMENDATION_TYPES,
    URGENCY_LEVELS,
    Prepared,
    Upstream,
)
from service.engine import Match, TableResult

__all__ = [
    "causes_of",
    "evidence_of",
    "questions_of",
    "recommendations_of",
    "red_flags_of",
    "urgency_of",
    "warnings_of",
]

Results = Mapping[str, TableResult]
Facts = Mapping[str, Any]


def evidence_of(
    prepared: Prepared, table: str, matches: Sequence[Match], results: Results
) -> list[str]:
    """The request fields the matched rules of ``table`` tested, each once, in tested order:
    a chained input stands for the fields tested by the rules it came from."""
    fields: list[str] = []
    by_rule = prepared.evidence[table]
    for match in matches:
        for part in by_rule[match.rule_id]:
            if isinstance(part, Upstream):
                upstream = results.get(part.table)
                if upstream is not None:
                    fields += evidence_of(prepared, part.table, upstream.matches, results)
            else:
                fields.append(part)
    return list(dict.fromkeys(fields))


def urgency_of(prepared: Prepared, results: Results, facts: Facts) -> dict[str, Any]:
    """The level the ``urgency`` table chose, with the reasons of the rules that gave it.

    A level that came through a chained table (the red flags) is explained by that table's
    rules that gave the same level: they name the person's answers.
    """
    result = results["urgency"]
    level = str(result.value["level"]) if result.value else URGENCY_LEVELS[0]
    reasons: list[str] = []
    rules: list[str] = []
    for match in result.matches:
        said = prepared.levels["urgency"][match.rule_id]
        if said.level != level:
            continue
        found = False
        for name in said.upstream:
            for source in results[name].matches:
                upstream = prepared.levels[name][source.rule_id]
                if upstream.reason is not None and upstream.level == level:
                    reasons.append(upstream.reason.render(facts, results))
                    rules.append(source.rule_id)
                    found = True
        if not found and said.reason is not None:
            reasons.append(said.reason.render(facts, results))
            rules.append(match.rule_id)
    return {
        "level": level,
        "rank": RANK[level],
        "seek_care": prepared.seek_care[level],
        "reasons": list(dict.fromkeys(reasons)),
        "rule": rules[0] if rules else "",
    }


def red_flags_of(prepared: Prepared, results: Results) -> list[dict[str, Any]]:
    """One entry per flag, most severe first; the table's own order breaks ties."""
    by_flag: dict[str, list[Match]] = {}
    top: dict[str, int] = {}
    for match in results["red_flags"].matches:
        rule = prepared.flags[match.rule_id]
        by_flag.setdefault(rule.flag, []).append(match)
        top[rule.flag] = max(top.get(rule.flag, rule.rank), rule.rank)
    order = prepared.flag_order
    ranked = sorted(by_flag, key=lambda flag: (-top[flag], order.get(flag, len(order))))
    return [
        {
            "id": flag,
            "label": prepared.flags[by_flag[flag][0].rule_id].label,
            "evidence": evidence_of(prepared, "red_flags", by_flag[flag], results),
        }
        for flag in ranked
    ]


def causes_of(prepared: Prepared, results: Results, facts: Facts) -> list[dict[str, Any]]:
    """One entry per cause: likely first, then the higher score, then the table's order.

    A cause named by several rules is likely when any of them says so, takes the highest
    score, and is explained by each rule's reason, except a reason that a more specific
    matched rule for the same cause replaces.
    """
    by_cause: dict[str, list[Match]] = {}
    for match in results["causes"].matches:
        by_cause.setdefault(prepared.causes[match.rule_id].cause, []).append(match)
    ranked: list[tuple[tuple[bool, float, int], dict[str, Any]]] = []
    for cause, group in by_cause.items():
        rules = [prepared.causes[match.rule_id] for match in group]
        ids = {match.rule_id for match in group}
        likely = any(rule.likely for rule in rules)
        score = round(min(max(max(rule.score for rule in rules), 0.0), 1.0), 2)
        because = [
            text.render(facts, results)
            for rule in rules
            if rule.covered_by.isdisjoint(ids)
            for text in rule.because
        ]
        entry = {
            "id": cause,
            "label": rules[0].label,
            "likelihood": "likely" if likely else "possible",
            "score": score,
            "explanation": " ".join([*dict.fromkeys(because), rules[0].about]),
            "evidence": evidence_of(prepared, "causes", group, results),
        }
        place = prepared.cause_order.get(cause, len(prepared.cause_order))
        ranked.append(((not likely, -score, place), entry))
    ranked.sort(key=lambda pair: pair[0])
    return [entry for _key, entry in ranked]


def recommendations_of(prepared: Prepared, results: Results, facts: Facts) -> list[dict[str, Any]]:
    """What the rules suggest, less what any contraindication blocks (by id or by type),
    each once, grouped by type in ``RECOMMENDATION_TYPES`` order, else in the table's order."""
    blocked = {prepared.blocks[match.rule_id] for match in results["contraindications"].matches}
    chosen: dict[str, dict[str, Any]] = {}
    for match in results["recommendations"].matches:
        suggestion = prepared.suggestions[match.rule_id]
        if suggestion.id in chosen or suggestion.id in blocked or suggestion.type in blocked:
            continue
        chosen[suggestion.id] = {
            "id": suggestion.id,
            "type": suggestion.type,
            "label": suggestion.label,
            "instructions": suggestion.instructions,
            "dose": suggestion.dose,
            "reason": suggestion.reason.render(facts, results),
        }
    return sorted(chosen.values(), key=lambda entry: RECOMMENDATION_TYPES.index(entry["type"]))


def questions_of(
    prepared: Prepared, results: Results, facts: Facts, rank: int
) -> list[dict[str, str]]:
    """The unanswered fields of the rules that would raise the urgency above ``rank``: the
    highest level they could lead to first, then the catalog's order (its authors put the
    most important questions first)."""
    raised: dict[str, int] = {}
    for table, raises_to in prepared.raises_to.items():
        for partial in results[table].partial:
            to = raises_to.get(partial.rule_id, -1)
            if to <= rank:
                continue
            for missing in partial.missing:
                for field in prepared.asks.get(missing, ()):
                    if facts.get(field) is None and to > raised.get(field, -1):
                        raised[field] = to
    place = {field: i for i, field in enumerate(prepared.questions)}
    return [
        {"field": field, "text": prepared.questions[field]}
        for field in sorted(raised, key=lambda field: (-raised[field], place[field]))
    ]


def warnings_of(prepared: Prepared, results: Results, facts: Facts) -> list[dict[str, Any]]:
    """One warning per code, the first matching rule's."""
    warnings: dict[str, dict[str, Any]] = {}
    for match in results["warnings"].matches:
        rule = prepared.warnings[match.rule_id]
        if rule.code not in warnings:
            warnings[rule.code] = {
                "code": rule.code,
                "message": rule.message.render(facts, results),
                "fields": evidence_of(prepared, "warnings", (match,), results),
            }
    return list(warnings.values())
