"""The domain pipeline: a validated request -> facts -> engine -> one assessment.

The tables decide (``service/rules/``); this package only assembles what they decided into
the answer, with the texts of the catalog:

- ``checks``: what a ruleset needs for the assessment, checked at load (the service refuses
  to start rather than fail a request);
- ``prepared``: everything that does not depend on the request, read once into one frozen
  ``Prepared``;
- ``sections``: one plain function per section of the answer (urgency, red flags, causes,
  recommendations, questions, warnings);
- ``texts``: catalog texts, parsed at load and filled in with the person's answers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from popcheck.assessment.checks import ruleset_findings
from popcheck.assessment.prepared import URGENCY_LEVELS, Prepared, prepare
from popcheck.assessment.sections import (
    causes_of,
    questions_of,
    recommendations_of,
    red_flags_of,
    urgency_of,
    warnings_of,
)
from popcheck.engine import Evaluator, RuleError, Ruleset, TableResult
from popcheck.facts import to_facts

__all__ = ["URGENCY_LEVELS", "Assessor", "assemble", "load_assessor"]


def assemble(
    prepared: Prepared, results: Mapping[str, TableResult], facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``Assessment`` body (without ``id`` and ``trace``) from the engine's results."""
    urgency = urgency_of(prepared, results, facts)
    questions = questions_of(prepared, results, facts, urgency["rank"])
    if questions and prepared.while_questions_open:
        # A reason that says nothing serious was found is not true while a question that
        # could raise the level is open (invariant 16).
        instead = prepared.while_questions_open
        urgency["reasons"] = [instead.get(reason, reason) for reason in urgency["reasons"]]
    return {
        "ruleset": dict(prepared.reference),
        "urgency": urgency,
        "red_flags": red_flags_of(prepared, results, facts),
        "causes": causes_of(prepared, results, facts),
        "recommendations": recommendations_of(prepared, results, facts),
        "questions": questions,
        "warnings": warnings_of(prepared, results, facts),
        "disclaimer": prepared.disclaimer,
    }


class Assessor:
    """Turns a validated request into the contract's ``Assessment`` body (without ``id``).

    Build one per ruleset (``load_assessor``) and share it: it is read-only, so ``assess``
    is safe to call from many threads at once.
    """

    def __init__(self, ruleset: Ruleset, citations: Mapping[str, str] | None = None) -> None:
        """Check and prepare ``ruleset``; raises ``RuleError`` if it cannot serve.
        ``citations`` gives each ``source`` key's full citation (the rules' sources file)."""
        findings = ruleset_findings(ruleset)
        if findings:
            raise RuleError(findings)
        self.ruleset = ruleset
        self.prepared = prepare(ruleset)
        citations = citations or {}
        # Each rule's source and its citation: GET /rules lists them, and an explained
        # assessment names them beside every rule that matched.
        self._cited = {
            rule.id: {"source": rule.source, "citation": citations.get(rule.source)}
            for table in ruleset.tables
            for rule in table.rules
        }
        # Only the partial matches of the tables that give an urgency level become
        # questions; the others are evaluated for their matches alone, which is cheaper.
        self.evaluator = Evaluator(ruleset, partial_for=tuple(self.prepared.raises_to))

    def describe(self) -> dict[str, Any]:
        """The body of ``GET /rules``: the ruleset's description plus the vocabulary of every
        id the service can return, with labels, by kind."""
        body = dict(self.ruleset.describe())
        for described, table in zip(body["tables"], self.ruleset.tables, strict=True):
            described["rules"] = [{"id": rule.id, **self._cited[rule.id]} for rule in table.rules]
        # A copy: the Assessor is shared between threads, and a caller may edit what it gets.
        body["vocabulary"] = copy.deepcopy(dict(self.prepared.vocabulary))
        return body

    def assess(
        self,
        request: Mapping[str, Any],
        *,
        explain: bool = False,
        fired: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Assess one validated request (nested, as the schema loads it; ``None`` or absent
        means unanswered). Returns the ``Assessment`` body without ``id``; ``trace`` only when
        ``explain`` is true. ``fired``, when given, receives ``(table, rule id)`` for every
        rule that matched (for the ``popcheck_rule_hits_total`` metric).

        Raises:
            popcheck.facts.UnknownFieldError: the request holds a field outside the contract.
            popcheck.engine.EvaluationError: a fact does not fit its declared type.
        """
        facts = to_facts(request)
        trace = None
        if explain:
            evaluation = self.evaluator.explain(facts)
            results, trace = evaluation.results, evaluation.trace
        else:
            results = self.evaluator.run(facts)
        if fired is not None:
            fired.extend(
                (table, match.rule_id)
                for table, result in results.items()
                for match in result.matches
            )
        body = assemble(self.prepared, results, facts)
        if explain:
            for step in trace or []:
                for matched in step["matched"]:
                    matched.update(self._cited[matched["rule"]])
            body["trace"] = trace or []
        return body


def load_assessor(rules_dir: Path) -> Assessor:
    """Load, check and compile the rules in ``rules_dir`` and prepare an ``Assessor``.

    The rules go through ``popcheck.rules_check.load_checked``, the same check as
    ``popcheck rules check``.

    Raises:
        popcheck.engine.RuleError: the ruleset is broken (one line per finding).
    """
    from popcheck.rules_check import SOURCES_FILE, citation, load_checked, load_sources

    ruleset, findings = load_checked(Path(rules_dir))
    if ruleset is None:
        raise RuleError(findings)
    citations: dict[str, str] = {}
    if (Path(rules_dir) / SOURCES_FILE).is_file():
        sources, _findings = load_sources(Path(rules_dir))  # checked by load_checked
        citations = {key: citation(entry) for key, entry in sources.items()}
    return Assessor(ruleset, citations)
