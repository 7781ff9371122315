"""The engine's data model: frozen dataclasses shared by loader, compiler and evaluator.

It also holds a cell's parse tree (``Node``) and compiled form (``UnaryTest``), which
``unary`` builds and the checker, the exporter and the evaluator read: every other engine
module imports this one, and it imports none of them, so the engine has no import cycle.
Everything here is immutable once built, which is what makes a compiled ``Ruleset``
safe to share between threads without locks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NamedTuple


class FactType(StrEnum):
    """Type of a fact, and of a table input that reads it."""

    INT = "int"
    NUMBER = "number"
    BOOL = "bool"
    ENUM = "enum"
    ENUM_LIST = "enum_list"


class OutputType(StrEnum):
    """Type of a table output."""

    ENUM = "enum"
    STRING = "string"
    INT = "int"
    NUMBER = "number"
    BOOL = "bool"


class HitPolicy(StrEnum):
    """DMN hit policies. Their behaviour is dispatched in one ``match`` (``plan._policy``)."""

    UNIQUE = "UNIQUE"
    ANY = "ANY"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"


class Aggregation(StrEnum):
    """Aggregations allowed with ``COLLECT``."""

    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


@dataclass(frozen=True)
class FactSpec:
    """What the application declares about one fact (request field or derived fact).

    ``values`` lists the allowed strings of ``enum``/``enum_list`` facts; ``range`` is the
    closed domain of ``int``/``number`` facts, used by the overlap and gap analysis and
    enforced at evaluation time.
    """

    type: FactType
    values: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    #: False only for facts that are always present (e.g. a chained COUNT); request
    #: fields are nullable because a person may leave them unanswered.
    nullable: bool = True


@dataclass(frozen=True)
class InputDef:
    """A table input: the fact it reads and the type the table expects."""

    name: str
    type: FactType
    values: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    nullable: bool = True


@dataclass(frozen=True)
class OutputDef:
    """A table output. ``has_default`` distinguishes ``default: null`` from no default."""

    name: str
    type: OutputType
    values: tuple[str, ...] = ()
    catalog: str | None = None
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class Match:
    """A rule that matched: its id, its outputs and the inputs it tests (not ``-``)."""

    rule_id: str
    outputs: Mapping[str, Any]
    tested: tuple[str, ...]


@dataclass(frozen=True)
class PartialMatch:
    """A rule whose answered conditions all hold but which needs unanswered inputs."""

    rule_id: str
    outputs: Mapping[str, Any]
    missing: tuple[str, ...]


class TableResult(NamedTuple):
    """What one table produced.

    ``value`` is what a chained table reads: a list of output mappings for COLLECT and
    RULE ORDER, the aggregated value for COLLECT with an aggregation, and the single
    output mapping (or ``None``) for UNIQUE, ANY, FIRST and PRIORITY. The mappings are the
    rules' own read-only outputs; ``evaluator.plain_value`` turns them into plain dicts.

    A named tuple rather than a frozen dataclass: every request builds one per table, and
    a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost 16% of an
    evaluation of the shipped rules.
    """

    table: str
    matches: tuple[Match, ...]
    partial: tuple[PartialMatch, ...]
    value: Any


@dataclass(frozen=True)
class Evaluation:
    """Results by table name, in evaluation order; ``trace`` only when explain was on."""

    results: Mapping[str, TableResult]
    trace: list[dict[str, Any]] | None


#: A compiled cell: takes the fact value (``None`` = unanswered) and says if it matches.
Predicate = Callable[[Any], bool]


class _EmptyList:
    """The ``[]`` literal: matches an answered, empty ``enum_list``."""

    _instance: _EmptyList | None = None

    def __new__(cls) -> _EmptyList:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "[]"


EMPTY_LIST: Final = _EmptyList()

#: A literal in a cell: ``None`` stands for ``null`` (unanswered).
Literal = None | bool | int | float | str | _EmptyList


@dataclass(frozen=True)
class AnyTest:
    """``-``: matches anything, including unanswered."""


@dataclass(frozen=True)
class Literals:
    """A list of literals: matches a value equal to one of them (``enum_list``: contains)."""

    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Compare:
    """``< 5`` and friends (``=`` and ``!=`` are parsed as literals and ``not``)."""

    op: str
    value: float


@dataclass(frozen=True)
class Range:
    """``[lo..hi]`` with each end open or closed."""

    lo: float
    lo_closed: bool
    hi: float
    hi_closed: bool


@dataclass(frozen=True)
class Not:
    """``not(test)``: an answered value that does not match ``test``."""

    inner: Node


@dataclass(frozen=True)
class AnyOf:
    """``test, test``: a comma list mixing literals with ranges, comparisons or not()."""

    tests: tuple[Node, ...]


Node = AnyTest | Literals | Compare | Range | Not | AnyOf


@dataclass(frozen=True)
class UnaryTest:
    """A compiled cell: its text, its parse tree and the closure the evaluator calls."""

    text: str
    node: Node
    fn: Predicate = field(repr=False, compare=False)


@dataclass(frozen=True)
class CompiledRule:
    """One rule, compiled: ``tests`` holds only the inputs it tests (``-`` is left out)."""

    id: str
    source: str
    note: str | None
    tests: Mapping[str, UnaryTest]
    outputs: Mapping[str, Any]
    #: The ``Match`` this rule produces, built once so a match allocates nothing.
    match: Match = field(repr=False, compare=False)


@dataclass(frozen=True)
class CompiledTable:
    """One decision table, compiled and checked."""

    name: str
    file: str
    description: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    complete: bool
    inputs: tuple[InputDef, ...]
    outputs: tuple[OutputDef, ...]
    rules: tuple[CompiledRule, ...]

    def input(self, name: str) -> InputDef:
        """The input called ``name`` (raises ``KeyError`` if the table has none)."""
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def output(self, name: str) -> OutputDef:
        """The output called ``name`` (raises ``KeyError`` if the table has none)."""
        for spec in self.outputs:
            if spec.name == name:
                return spec
        raise KeyError(name)


@dataclass(frozen=True)
class Ruleset:
    """A loaded, checked and compiled ruleset: read-only, so share it between threads.

    ``tables`` are in evaluation (dependency) order. Build one with ``load_ruleset``, and
    an ``Evaluator`` from it to evaluate it.
    """

    name: str
    version: str
    digest: str
    catalog: Mapping[str, Any]
    constants: Mapping[str, int | float]
    tables: tuple[CompiledTable, ...]
    directory: str = ""

    def table(self, name: str) -> CompiledTable:
        """The table called ``name`` (raises ``KeyError`` if there is none)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: name, version, digest and one entry per table."""
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "tables": [
                {
                    "name": table.name,
                    "description": table.description,
                    "hit_policy": str(table.hit_policy),
                    "aggregation": None if table.aggregation is None else str(table.aggregation),
                    "inputs": [spec.name for spec in table.inputs],
                    "outputs": [spec.name for spec in table.outputs],
                    "rule_count": len(table.rules),
                }
                for table in self.tables
            ],
        }
