"""Exceptions raised by the decision-table engine.

Hierarchy::

    EngineError                 root: catch this to handle anything the engine raises
    +-- RuleError               the ruleset cannot be loaded; carries every Finding
    +-- EvaluationError         a run-time violation (two matches under UNIQUE, a fact
                                of the wrong type, ...); never silently "no match"

The engine raises nothing else on purpose: callers (the app factory, the CLI, the HTTP
layer) map these two to "refuse to start" and "500 with a problem body" respectively.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem found in a rules directory.

    ``str(finding)`` is the ``file:line: rule id: message`` line that ``popcheck rules check``
    prints (``file: rule id: message`` when the line is not known); ``rule_id`` is ``None``
    when the problem is not about one rule (it then reads ``file:line: -: message``).
    ``line`` counts from 1.
    """

    file: str
    rule_id: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.rule_id or '-'}: {self.message}"


class EngineError(Exception):
    """Root of every exception the engine raises."""


class RuleError(EngineError):
    """The ruleset has at least one finding and cannot be used.

    ``str()`` is one ``file: rule id: message`` line per finding.
    """

    def __init__(self, findings: tuple[Finding, ...] | list[Finding]) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        super().__init__("\n".join(str(f) for f in self.findings))


class EvaluationError(EngineError):
    """Evaluation broke a table's contract at run time (e.g. two matches under UNIQUE)."""
