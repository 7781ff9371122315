"""Exact static analysis of a compiled table: dead rules, overlaps, shadowing, gaps.

Each rule is a box: one set per input column. Columns are either finite (bool, enum,
and enum_list, whose values are the subsets of the values the table mentions plus one
unmentioned representative) or numeric (a union of intervals with open or closed ends;
int columns are normalised to closed integer intervals). Unanswered (``null``) is a point
of its own in every nullable column, and ``not(...)`` is the complement within the
declared domain minus ``null``. With those sets:

- two rules overlap when every column pair intersects;
- a rule is shadowed under FIRST when its box minus the union of earlier boxes is empty;
- a ``complete`` table has a gap when the whole domain minus the union of all boxes is not.

Box subtraction partitions the box column by column, recursively, so every "not
covered" answer comes with one concrete uncovered example.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from popcheck.engine.errors import Finding
from popcheck.engine.model import (
    AnyOf,
    AnyTest,
    Compare,
    CompiledRule,
    CompiledTable,
    FactType,
    HitPolicy,
    InputDef,
    Literals,
    Node,
    Not,
    Range,
)

INF = math.inf
Interval = tuple[float, bool, float, bool]  # lo, lo closed, hi, hi closed


@dataclass(frozen=True)
class NumSet:
    """A set of numbers as sorted disjoint intervals, plus whether ``null`` is in it."""

    intervals: tuple[Interval, ...]
    null: bool


ColumnSet = frozenset[Any] | NumSet


def _iv_empty(iv: Interval) -> bool:
    lo, lc, hi, hc = iv
    return lo > hi or (lo == hi and not (lc and hc))


def _iv_int(iv: Interval) -> Interval:
    lo, lc, hi, hc = iv
    if math.isfinite(lo):
        lo, lc = (lo if lc and float(lo).is_integer() else math.floor(lo) + 1), True
    if math.isfinite(hi):
        hi, hc = (hi if hc and float(hi).is_integer() else math.ceil(hi) - 1), True
    return lo, lc, hi, hc


def _normalise(ivs: Iterable[Interval], integer: bool) -> tuple[Interval, ...]:
    items = sorted(
        (_iv_int(iv) if integer else iv for iv in ivs), key=lambda iv: (iv[0], not iv[1])
    )
    merged: list[Interval] = []
    for iv in items:
        if _iv_empty(iv):
            continue
        if merged:
            lo, lc, hi, hc = merged[-1]
            touches = iv[0] < hi or (iv[0] == hi and (hc or iv[1]))
            if integer and math.isfinite(hi) and iv[0] == hi + 1:
                touches = True
            if touches:
                if iv[2] > hi or (iv[2] == hi and iv[3]):
                    merged[-1] = (lo, lc, iv[2], iv[3] or (iv[2] == hi and hc))
                continue
        merged.append(iv)
    return tuple(merged)


def _intersect_ivs(
    a: Sequence[Interval], b: Sequence[Interval], integer: bool
) -> tuple[Interval, ...]:
    out: list[Interval] = []
    for alo, alc, ahi, ahc in a:
        for blo, blc, bhi, bhc in b:
            if alo > blo or (alo == blo and not alc):
                lo, lc = alo, alc
            else:
                lo, lc = blo, blc
            if ahi < bhi or (ahi == bhi and not ahc):
                hi, hc = ahi, ahc
            else:
                hi, hc = bhi, bhc
            out.append((lo, lc, hi, hc))
    return _normalise(out, integer)


def _complement(ivs: Sequence[Interval], integer: bool) -> tuple[Interval, ...]:
    out: list[Interval] = []
    lo, lc = -INF, False
    for ilo, ilc, ihi, ihc in ivs:
        out.append((lo, lc, ilo, not ilc))
        lo, lc = ihi, not ihc
    out.append((lo, lc, INF, False))
    return _normalise(out, integer)


class _Column:
    """The algebra of one input column's value sets."""

    def __init__(self, spec: InputDef, rules: Sequence[CompiledRule]) -> None:
        self.spec = spec
        self.numeric = spec.type in (FactType.INT, FactType.NUMBER)
        self.integer = spec.type is FactType.INT
        if self.numeric:
            lo, hi = spec.range if spec.range is not None else (-INF, INF)
            self.domain = _normalise([(lo, True, hi, True)], self.integer)
            self.full: ColumnSet = NumSet(self.domain, spec.nullable)
            return
        points: list[Any]
        if spec.type is FactType.BOOL:
            points = [False, True]
        elif spec.type is FactType.ENUM:
            points = list(spec.values)
        else:
            points = self._subsets(rules)
        if spec.nullable:
            points.append(None)
        self.full = frozenset(points)

    def _subsets(self, rules: Sequence[CompiledRule]) -> list[Any]:
        # Only membership of the values some rule mentions can change an outcome, so one
        # unmentioned representative stands for all the others.
        mentioned: set[str] = set()
        for rule in rules:
            test = rule.tests.get(self.spec.name)
            if test is not None:
                mentioned |= _strings(test.node)
        atoms = [v for v in self.spec.values if v in mentioned]
        others = [v for v in self.spec.values if v not in mentioned]
        if others:
            atoms.append(others[0])
        return [
            frozenset(combo)
            for size in range(len(atoms) + 1)
            for combo in itertools.combinations(atoms, size)
        ]

    def region(self, rule: CompiledRule) -> ColumnSet:
        test = rule.tests.get(self.spec.name)
        if test is None:
            return self.full
        if isinstance(self.full, frozenset):
            # Finite domain: the compiled closure decides membership exactly, point by point.
            return frozenset(p for p in self.full if test.fn(p))
        return self.intersect(self._numeric(test.node), self.full)

    def _numeric(self, node: Node) -> NumSet:
        match node:
            case AnyTest():
                return NumSet(((-INF, False, INF, False),), True)
            case Literals(values):
                ivs = [
                    (float(v), True, float(v), True)
                    for v in values
                    if isinstance(v, int | float) and not isinstance(v, bool)
                ]
                return NumSet(_normalise(ivs, self.integer), None in values)
            case Compare(op, k):
                iv = {
                    "<": (-INF, False, k, False),
                    "<=": (-INF, False, k, True),
                    ">": (k, False, INF, False),
                    ">=": (k, True, INF, False),
                }[op]
                return NumSet(_normalise([iv], self.integer), False)
            case Range(lo, lc, hi, hc):
                return NumSet(_normalise([(lo, lc, hi, hc)], self.integer), False)
            case AnyOf(tests):
                parts = [self._numeric(test) for test in tests]
                ivs = [iv for part in parts for iv in part.intervals]
                return NumSet(_normalise(ivs, self.integer), any(part.null for part in parts))
            case Not(inner):
                inside = self._numeric(inner)
                rest = _intersect_ivs(
                    self.domain, _complement(inside.intervals, self.integer), self.integer
                )
                return NumSet(rest, False)
        raise TypeError(node)  # pragma: no cover - exhaustive match

    def intersect(self, a: ColumnSet, b: ColumnSet) -> ColumnSet:
        if isinstance(a, NumSet) and isinstance(b, NumSet):
            return NumSet(_intersect_ivs(a.intervals, b.intervals, self.integer), a.null and b.null)
        return a & b  # type: ignore[operator]

    def subtract(self, a: ColumnSet, b: ColumnSet) -> ColumnSet:
        if isinstance(a, NumSet) and isinstance(b, NumSet):
            rest = _intersect_ivs(a.intervals, _complement(b.intervals, self.integer), self.integer)
            return NumSet(rest, a.null and not b.null)
        return a - b  # type: ignore[operator]

    @staticmethod
    def empty(a: ColumnSet) -> bool:
        if isinstance(a, NumSet):
            return not a.intervals and not a.null
        return not a

    def example(self, a: ColumnSet) -> Any:
        """One concrete value in ``a`` (answered values preferred over null)."""
        if isinstance(a, NumSet):
            if not a.intervals:
                return None
            lo, lc, hi, hc = a.intervals[0]
            if math.isfinite(lo):
                if lc:
                    value = lo
                elif math.isfinite(hi):
                    value = (lo + hi) / 2
                else:
                    value = lo + 1
            elif math.isfinite(hi):
                value = hi if hc else hi - 1
            else:
                value = 0
            return int(value) if float(value).is_integer() else value
        answered = [p for p in a if p is not None]
        if not answered:
            return None
        return sorted(
            answered,
            key=lambda p: (len(p), sorted(p)) if isinstance(p, frozenset) else (0, [str(p)]),
        )[0]

    def format(self, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, frozenset):
            return "[" + ", ".join(v for v in self.spec.values if v in value) + "]"
        return str(value)


def _strings(node: Node) -> set[str]:
    match node:
        case Literals(values):
            return {v for v in values if isinstance(v, str)}
        case Not(inner):
            return _strings(inner)
        case AnyOf(tests):
            return set().union(*(_strings(test) for test in tests))
    return set()


Box = list[ColumnSet]


class _Table:
    def __init__(self, table: CompiledTable) -> None:
        self.table = table
        self.columns = [_Column(spec, table.rules) for spec in table.inputs]
        self.boxes = [[col.region(rule) for col in self.columns] for rule in table.rules]

    def intersect(self, a: Box, b: Box) -> Box | None:
        out: Box = []
        for col, x, y in zip(self.columns, a, b, strict=True):
            both = col.intersect(x, y)
            if col.empty(both):
                return None
            out.append(both)
        return out

    def uncovered(self, box: Box, others: Sequence[Box]) -> Box | None:
        """A point (one value per column, as singleton sets) in ``box`` not in any of ``others``."""
        live = [other for other in others if self.intersect(box, other) is not None]
        if not live:
            return box
        first, rest = live[0], live[1:]
        current = list(box)
        for i, col in enumerate(self.columns):
            outside = col.subtract(current[i], first[i])
            if not col.empty(outside):
                found = self.uncovered(current[:i] + [outside] + current[i + 1 :], rest)
                if found is not None:
                    return found
            current[i] = col.intersect(current[i], first[i])
        return None  # what is left of the box lies inside ``first``

    def describe(self, box: Box, only: set[str] | None = None) -> str:
        parts = [
            f"{col.spec.name}={col.format(col.example(cell))}"
            for col, cell in zip(self.columns, box, strict=True)
            if only is None or col.spec.name in only
        ]
        return ", ".join(parts) if parts else "any input"


def analyse_table(table: CompiledTable) -> list[Finding]:
    """Every static finding for one compiled table (dead rules, overlaps, shadows, gaps)."""
    t = _Table(table)
    findings: list[Finding] = []
    rules = table.rules
    live: list[int] = []
    for i, (rule, box) in enumerate(zip(rules, t.boxes, strict=True)):
        dead = [col.spec.name for col, cell in zip(t.columns, box, strict=True) if col.empty(cell)]
        if dead:
            text = rule.tests[dead[0]].text
            findings.append(
                Finding(
                    table.file,
                    rule.id,
                    f"can never match: {dead[0]!r} test {text!r} "
                    "matches no value in the input's domain",
                )
            )
        else:
            live.append(i)

    policy = table.hit_policy
    if policy in (HitPolicy.UNIQUE, HitPolicy.ANY):
        for a, b in itertools.combinations(live, 2):
            both = t.intersect(t.boxes[a], t.boxes[b])
            if both is None:
                continue
            if policy is HitPolicy.ANY and rules[a].outputs == rules[b].outputs:
                continue
            tested = set(rules[a].tests) | set(rules[b].tests)
            what = "overlaps" if policy is HitPolicy.UNIQUE else "overlaps with different outputs"
            findings.append(
                Finding(
                    table.file,
                    rules[b].id,
                    f"{what} rule {rules[a].id} under {policy}: both match "
                    f"{t.describe(both, tested)}",
                )
            )
    if policy is HitPolicy.FIRST:
        for pos, i in enumerate(live):
            earlier = [t.boxes[j] for j in live[:pos]]
            if earlier and t.uncovered(t.boxes[i], earlier) is None:
                by = [rules[j].id for j in live[:pos] if t.intersect(t.boxes[i], t.boxes[j])]
                findings.append(
                    Finding(
                        table.file,
                        rules[i].id,
                        f"is shadowed under FIRST by earlier rule(s) {', '.join(by)}: "
                        "it can never be the first match",
                    )
                )
    if table.complete:
        full: Box = [col.full for col in t.columns]
        gap = t.uncovered(full, [t.boxes[i] for i in live])
        if gap is not None:
            findings.append(
                Finding(
                    table.file,
                    None,
                    f"table is marked complete but no rule matches {t.describe(gap)}",
                )
            )
    return findings
