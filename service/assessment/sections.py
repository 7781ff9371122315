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
from operator import itemgetter
from typing import Any

from service.assessment.prepared import (
    RANK,
    TYPE_ORDER,
    URGENCY_LEVELS,
    Prepared,
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
            if isinstance(part, str):
                fields.append(part)
            elif (upstream := results.get(part.table)) is not None:
                fields += evidence_of(prepared, part.table, upstream.matches, results)
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
    matches = results["red_flags"].matches
    if not matches:
        return []
    by_flag: dict[str, list[Match]] = {}
    top: dict[str, int] = {}
    for match in matches:
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
        first = rules[0]
        likely, score, because = first.likely, first.score, first.because
        if len(rules) > 1:
            ids = {match.rule_id for match in group}
            likely = any(rule.likely for rule in rules)
            score = max(rule.score for rule in rules)
            because = tuple(
                text for rule in rules if rule.covered_by.isdisjoint(ids) for text in rule.because
            )
        said = dict.fromkeys(text.render(facts, results) for text in because)
        entry = {
            "id": cause,
            "label": first.label,
            "likelihood": "likely" if likely else "possible",
            "score": score,
            "explanation": " ".join([*said, first.about]),
            "evidence": evidence_of(prepared, "causes", group, results),
        }
        ranked.append(((not likely, -score, first.place), entry))
    ranked.sort(key=itemgetter(0))
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
    return sorted(chosen.values(), key=lambda entry: TYPE_ORDER[entry["type"]])


def questions_of(
    prepared: Prepared, results: Results, facts: Facts, rank: int
) -> list[dict[str, str]]:
    """The unanswered fields of the rules that would raise the urgency above ``rank``: the
    highest level they could lead to first, then the catalog's order (its authors put the
    most important questions first)."""
    # The highest rank each missing fact could lead to, then the questions those facts ask
    # (a derived fact asks about each of its unanswered sources).
    leads_to: dict[str, int] = {}
    for table, raises_to in prepared.raises_to.items():
        for partial in results[table].partial:
            to = raises_to[partial.rule_id]
            if to > rank:
                for missing in partial.missing:
                    if to > leads_to.get(missing, -1):
                        leads_to[missing] = to
    raised: dict[str, int] = {}
    asks = prepared.asks
    for missing, to in leads_to.items():
        for field in asks.get(missing, ()):
            if to > raised.get(field, -1) and facts.get(field) is None:
                raised[field] = to
    # Catalog order, then (a stable sort) the highest rank first.
    fields = sorted(raised, key=prepared.question_place.__getitem__)
    fields.sort(key=raised.__getitem__, reverse=True)
    questions = prepared.questions
    return [{"field": field, "text": questions[field]} for field in fields]


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
