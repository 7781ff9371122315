"""The one check of a rules directory: what the service refuses at start-up, and the rest.

``load_checked`` is the only road from a rules directory to a ruleset the service may use.
``create_app`` (through ``service.assessment.load_assessor``) and ``popcheck rules check``
and ``rules test`` all call it, so the author's checker cannot say "ok" about rules the
service would refuse. It runs, in order:

1. the engine's checks (YAML, schemas, inputs, cells, outputs, overlaps, gaps, cycles);
2. the assessment's checks of the catalog and the rules (``assessment.checks``);
3. the hazard log beside the rules (``hazards.yaml``), when there is one;
4. the golden-case files, when a path to them is given (the service itself passes none).

Every problem is a ``Finding``; nothing here raises for bad data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from service.engine import FactSpec, Finding, Ruleset, build_ruleset
from service.engine.lines import locate

__all__ = ["case_findings", "check_rules", "load_checked"]


def _hazards(ruleset: Ruleset, directory: Path) -> list[Finding]:
    """The hazard log, when there is one (a ruleset for the engine alone keeps none)."""
    from service.hazards import HAZARDS_FILE, hazard_findings, load_hazards

    if not (directory / HAZARDS_FILE).is_file():
        return []
    hazards, shape = load_hazards(directory)
    rule_ids = (rule.id for table in ruleset.tables for rule in table.rules)
    return shape + hazard_findings(hazards, rule_ids)


def case_findings(cases: Path) -> list[Finding]:
    """Every malformed golden case in ``cases`` (a file or a directory), each once."""
    from service.golden import case_problems

    cases = Path(cases)
    found = [
        Finding(file, name or (f"case {number}" if number else None), message)
        for file, name, number, message in case_problems(cases)
    ]
    return locate(found, cases if cases.is_dir() else cases.parent)


def load_checked(
    directory: Path,
    *,
    facts: Mapping[str, FactSpec] | None = None,
    cases: Path | None = None,
) -> tuple[Ruleset | None, list[Finding]]:
    """The ruleset in ``directory`` and no findings, or ``None`` and every finding.

    ``facts`` is for rulesets of the engine alone (tests of the engine): given, only the
    engine's checks and the hazard log run. By default the service's own facts are used and
    the assessment's checks run too.
    """
    directory = Path(directory)
    engine_only = facts is not None
    if facts is None:
        from service.facts import FACTS

        facts = FACTS
    ruleset, findings = build_ruleset(directory, facts)
    if ruleset is not None:
        if not engine_only:
            from service.assessment.checks import ruleset_findings

            findings += ruleset_findings(ruleset)
        findings += _hazards(ruleset, directory)
        findings = locate(findings, directory)
    if cases is not None:
        findings += case_findings(cases)
    return (None if findings else ruleset), findings


def check_rules(
    directory: Path,
    *,
    facts: Mapping[str, FactSpec] | None = None,
    cases: Path | None = None,
) -> list[Finding]:
    """Every finding in the rules directory (and the golden cases, when given)."""
    return load_checked(directory, facts=facts, cases=cases)[1]
