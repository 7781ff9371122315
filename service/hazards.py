"""The clinical hazard log beside the rules (``hazards.yaml``), in the spirit of DCB0129.

Each hazard names its cause, effect, severity and likelihood, and its controls: the rule ids
that catch it, the contract invariants (1 to 16) that forbid it, and the tests that prove
them. ``hazard_findings`` reports what ``popcheck rules check`` must refuse: a hazard with no
control, a control naming a rule or an invariant that does not exist, an unknown severity or
likelihood. Whether a named test exists is checked by the test suite
(``tests/unit/test_hazards.py``), which the installed package does not ship.

The log documents the ruleset; the service does not read it to answer requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from popcheck.engine import Finding

__all__ = [
    "HAZARDS_FILE",
    "INVARIANTS",
    "LIKELIHOODS",
    "SEVERITIES",
    "Hazard",
    "hazard_findings",
    "load_hazards",
]

HAZARDS_FILE: Final = "hazards.yaml"
SEVERITIES: Final = ("catastrophic", "major", "considerable", "significant", "minor")
LIKELIHOODS: Final = ("very_high", "high", "medium", "low", "very_low")
#: The contract's invariants, numbered as in the API contract (1 to 9 in v1.0, 10 to 16 added
#: in v1.1).
INVARIANTS: Final = range(1, 17)
_KEYS: Final = {"id", "hazard", "cause", "effect", "severity", "likelihood", "controls"}
_CONTROLS: Final = ("rules", "invariants", "tests")


@dataclass(frozen=True)
class Hazard:
    """One entry of the log."""

    id: str
    hazard: str
    cause: str
    effect: str
    severity: str
    likelihood: str
    rules: tuple[str, ...]
    invariants: tuple[int, ...]
    tests: tuple[str, ...]

    @property
    def controlled(self) -> bool:
        """At least one rule, invariant or test stands between the cause and the effect."""
        return bool(self.rules or self.invariants or self.tests)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def load_hazards(rules_dir: Path) -> tuple[list[Hazard], list[Finding]]:
    """The hazards in ``rules_dir/hazards.yaml`` and what is wrong with the file's shape.
    No file: no hazards and one finding."""
    path = Path(rules_dir) / HAZARDS_FILE
    if not path.is_file():
        return [], [Finding(HAZARDS_FILE, None, "no hazard log beside the rules")]
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [], [Finding(HAZARDS_FILE, None, f"not valid YAML: {exc}")]
    entries = document.get("hazards") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        return [], [Finding(HAZARDS_FILE, None, "needs a list under 'hazards'")]
    hazards: list[Hazard] = []
    findings: list[Finding] = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping) or not entry.get("id"):
            findings.append(Finding(HAZARDS_FILE, None, f"hazard {number} needs an id"))
            continue
        hazard_id = str(entry["id"])
        for key in sorted(set(map(str, entry)) - _KEYS):
            findings.append(Finding(HAZARDS_FILE, hazard_id, f"unknown key {key!r}"))
        for key in ("hazard", "cause", "effect"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                findings.append(Finding(HAZARDS_FILE, hazard_id, f"needs a {key}"))
        controls = entry.get("controls") or {}
        if not isinstance(controls, Mapping):
            controls = {}
        for key in sorted(set(map(str, controls)) - set(_CONTROLS)):
            findings.append(Finding(HAZARDS_FILE, hazard_id, f"unknown control kind {key!r}"))
        invariants = controls.get("invariants", [])
        hazards.append(
            Hazard(
                id=hazard_id,
                hazard=str(entry.get("hazard", "")),
                cause=str(entry.get("cause", "")),
                effect=str(entry.get("effect", "")),
                severity=str(entry.get("severity", "")),
                likelihood=str(entry.get("likelihood", "")),
                rules=_strings(controls.get("rules")),
                invariants=tuple(invariants) if isinstance(invariants, list) else (),
                tests=_strings(controls.get("tests")),
            )
        )
    return hazards, findings


def hazard_findings(hazards: Iterable[Hazard], rule_ids: Iterable[str]) -> list[Finding]:
    """What is wrong with the log against a ruleset whose rules are ``rule_ids``."""
    known = set(rule_ids)
    seen: set[str] = set()
    findings: list[Finding] = []

    def add(hazard: Hazard, message: str) -> None:
        findings.append(Finding(HAZARDS_FILE, hazard.id, message))

    for hazard in hazards:
        if hazard.id in seen:
            add(hazard, "duplicate hazard id")
        seen.add(hazard.id)
        if hazard.severity not in SEVERITIES:
            add(hazard, "severity must be one of " + ", ".join(SEVERITIES))
        if hazard.likelihood not in LIKELIHOODS:
            add(hazard, "likelihood must be one of " + ", ".join(LIKELIHOODS))
        if not hazard.controlled:
            add(hazard, "has no control: name the rules, invariants or tests that prevent it")
        for rule in hazard.rules:
            if rule not in known:
                add(hazard, f"control names rule {rule!r}, which is not in the ruleset")
        for invariant in hazard.invariants:
            if type(invariant) is not int or invariant not in INVARIANTS:
                add(hazard, f"control names invariant {invariant!r}; the contract has 1 to 16")
        for test in hazard.tests:
            path, sep, name = test.partition("::")
            if not sep or not path.startswith("tests/") or not name.strip():
                add(hazard, f"test {test!r} must read tests/<file>::<test or golden case name>")
    return findings
