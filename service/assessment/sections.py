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

from popcheck.assessment.prepared import (
    RANK,
    TYPE_ORDER,
    URGENCY_LEVELS,
    Derived,
    Prepared,
)
from popcheck.engine import Match, TableResult

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
_NONE: frozenset[str] = frozenset()
# One bucket per urgency rank, and a last one for rules that give no level (never read).
_BUCKETS = range(len(URGENCY_LEVELS) + 1)
Facts = Mapping[str, Any]


def evidence_of(
    prepared: Prepared, table: str, matches: Sequence[Match], results: Results, facts: Facts
) -> list[str]:
    """The answered request fields the matched rules of ``table`` tested, each once, in tested
    order: a chained input stands for the fields tested by the rules it came from. (A rule
    may match an unanswered field, through ``null`` or a derived fact; that field is not
    evidence of anything.)"""
    fields: list[str] = []
    by_rule = prepared.evidence[table]
    for match in matches:
        for part in by_rule[match.rule_id]:
            if isinstance(part, str):
                if facts.get(part) is not None:
                    fields.append(part)
            elif isinstance(part, Derived):
                if facts[part.name] is True:
                    fields += [field for field in part.sources if facts[field] is True]
                else:
                    fields += [field for field in part.sources if facts[field] is not None]
            elif (upstream := results.get(part.table)) is not None:
                fields += evidence_of(prepared, part.table, upstream.matches, results, facts)
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


def red_flags_of(prepared: Prepared, results: Results, facts: Facts) -> list[dict[str, Any]]:
    """One entry per flag, most severe first; the table's own order breaks ties. A flag that
    only rules marked weak on their own raised (age, night pain) is explained as such."""
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
    flags = prepared.flags
    explanations = prepared.flag_explanations
    return [
        {
            "id": flag,
            "label": flags[by_flag[flag][0].rule_id].label,
            "explanation": explanations[flag][
                all(flags[match.rule_id].weak for match in by_flag[flag])
            ],
            "evidence": evidence_of(prepared, "red_flags", by_flag[flag], results, facts),
        }
        for flag in ranked
    ]


def causes_of(prepared: Prepared, results: Results, facts: Facts) -> list[dict[str, Any]]:
    """One entry per cause: likely first, then the higher score, then the table's order.

    A cause named by several rules is likely when any of them says so, takes the highest
    score, and is explained by each rule's reason, except a reason that a more specific
    matched rule for the same cause replaces. Beside a red flag that the cause does not
    explain (catalog ``explains``), a cause is at most possible and its explanation starts
    by saying that the warning sign comes first (invariant 12).
    """
    flag_matches = results["red_flags"].matches
    flagged = {prepared.flags[m.rule_id].flag for m in flag_matches} if flag_matches else _NONE
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
        said = [*dict.fromkeys(text.render(facts, results) for text in because), first.about]
        if flagged and not flagged <= first.explains:
            likely = False
            said.insert(0, prepared.cause_beside_red_flag)
        entry = {
            "id": cause,
            "label": first.label,
            "likelihood": "likely" if likely else "possible",
            "score": score,
            "explanation": " ".join(said),
            "evidence": evidence_of(prepared, "causes", group, results, facts),
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
            "dose_detail": None if suggestion.dose_detail is None else dict(suggestion.dose_detail),
            "reason": suggestion.reason.render(facts, results),
        }
    return sorted(chosen.values(), key=lambda entry: TYPE_ORDER[entry["type"]])


def questions_of(
    prepared: Prepared, results: Results, facts: Facts, rank: int
) -> list[dict[str, Any]]:
    """The unanswered fields of the rules that would raise the urgency above ``rank``: the
    highest level they could lead to first, then the catalog's order (its authors put the
    most important questions first). A follow-up question is left out when every one of its
    lead questions was answered "no" (catalog ``follows``; invariant 13).

    Each entry is typed (``type``; ``options`` for choices; ``minimum``, ``maximum`` and
    ``unit`` for numbers, from the request contract), says the highest level its answer
    could lead to (``raises_to``) and, for a follow-up, the lead questions it follows
    (``follows``). Members that do not apply are absent, not ``None``."""
    # The missing inputs of the partial matches, by the rank they could lead to. (A hot
    # path: about fifty partial matches a request, so the loop only sorts them into buckets;
    # what each one asks was worked out at load, and the buckets are joined in C.)
    raises = prepared.raises
    buckets: list[list[tuple[str, ...]]] = [[] for _ in _BUCKETS]
    for table in prepared.raises_to:
        for partial in results[table].partial:
            buckets[raises[partial.rule_id]].append(partial.missing)
    asks = prepared.asks_of_missing.__getitem__
    by_rank = {
        to: set().union(*map(asks, buckets[to]))
        for to in range(len(URGENCY_LEVELS) - 1, rank, -1)
        if buckets[to]
    }
    if not by_rank:
        return []
    # Never asked: a field a derived fact asks about that was answered, and a follow-up
    # whose every lead was answered "no".
    blocked = {field for field in prepared.derived_fields if facts[field] is not None}
    for field, leads in prepared.follows.items():
        for lead in leads:
            if facts[lead] is not False:
                break
        else:
            blocked.add(field)
    place = prepared.question_place.__getitem__
    details = prepared.question_details
    with_lists = prepared.question_lists
    asked: list[dict[str, Any]] = []
    for to, fields in by_rank.items():  # the highest rank first
        fields -= blocked
        blocked |= fields
        for field in sorted(fields, key=place):
            # The entry typed at load, copied: the caller may edit what it gets (and the
            # lists inside, which only choices and follow-ups have).
            entry = details[field][to].copy()
            if field in with_lists:
                if "options" in entry:
                    entry["options"] = [option.copy() for option in entry["options"]]
                if "follows" in entry:
                    entry["follows"] = list(entry["follows"])
            asked.append(entry)
    return asked


def warnings_of(prepared: Prepared, results: Results, facts: Facts) -> list[dict[str, Any]]:
    """One warning per code, the first matching rule's."""
    warnings: dict[str, dict[str, Any]] = {}
    for match in results["warnings"].matches:
        rule = prepared.warnings[match.rule_id]
        if rule.code not in warnings:
            warnings[rule.code] = {
                "code": rule.code,
                "message": rule.message.render(facts, results),
                "fields": evidence_of(prepared, "warnings", (match,), results, facts),
            }
    return list(warnings.values())
