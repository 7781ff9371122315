"""Exact static analysis: one planted fault per finding kind, and near-misses that are fine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from popcheck.engine import check_ruleset
from tests.support.engine_rules import FACTS, rule, table, unlocated, write_ruleset

OUT = {"name": "o", "type": "int"}
PAIN = {"name": "pain.level", "type": "int"}  # int in [0..10], nullable
HOURS = {"name": "sitting_hours", "type": "number"}  # number in [0..24]
WEIGHT = {"name": "weight", "type": "number"}  # number, unbounded
ROM = {"name": "rom", "type": "enum"}
SADDLE = {"name": "saddle", "type": "bool"}
TIGHT = {"name": "tight", "type": "enum_list"}


def _check(
    tmp_path: Path, policy: str, inputs: list[dict[str, Any]], cells: list[Any], **extra: Any
) -> list[str]:
    """Findings for a one-table ruleset; each cell dict becomes rule r<i> with output i."""
    rules = [{"id": f"r{i}", "when": when, "then": {"o": i}} for i, when in enumerate(cells)]
    doc = table("t", policy, inputs, [OUT], rules, **extra)
    return [unlocated(f) for f in check_ruleset(write_ruleset(tmp_path, [doc]), FACTS)]


# (id, policy, inputs, rules' `when`, extra, expected findings exactly)
CASES: list[
    tuple[str, str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], list[str]]
] = [
    (
        "unique closed ends touch",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "[1..5]"}, {"pain.level": "[5..8]"}],
        {},
        ["tables/t.yaml: r1: overlaps rule r0 under UNIQUE: both match pain.level=5"],
    ),
    (
        "unique half-open ends do not touch",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "[1..5)"}, {"pain.level": "[5..8]"}],
        {},
        [],
    ),
    (
        "int open ends are normalised",  # (4..8] on ints is [5..8]
        "UNIQUE",
        [PAIN],
        [{"pain.level": "<= 4"}, {"pain.level": "(4..8]"}, {"pain.level": "(7.5..9)"}],
        {},
        ["tables/t.yaml: r2: overlaps rule r1 under UNIQUE: both match pain.level=8"],
    ),
    (
        "number ends: <= 5 and >= 5 share 5",
        "UNIQUE",
        [HOURS],
        [{"sitting_hours": "<= 5"}, {"sitting_hours": ">= 5"}],
        {},
        ["tables/t.yaml: r1: overlaps rule r0 under UNIQUE: both match sitting_hours=5"],
    ),
    (
        "number ends: < 5 and >= 5 are disjoint",
        "UNIQUE",
        [HOURS],
        [{"sitting_hours": "< 5"}, {"sitting_hours": ">= 5"}],
        {},
        [],
    ),
    (
        "null is a point of its own: - includes it",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "null"}, {}],
        {},
        ["tables/t.yaml: r1: overlaps rule r0 under UNIQUE: both match pain.level=null"],
    ),
    (
        "null is disjoint from comparisons",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "null"}, {"pain.level": "< 5"}, {"pain.level": "not(< 5)"}],
        {},
        [],
    ),
    (
        "not() is the complement within the domain",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "not([1..5])"}, {"pain.level": "[5..8]"}],
        {},
        ["tables/t.yaml: r1: overlaps rule r0 under UNIQUE: both match pain.level=6"],
    ),
    (
        "enum_list contains-any overlaps on a list holding both",
        "UNIQUE",
        [TIGHT],
        [{"tight": '"hips"'}, {"tight": '"glutes"'}],
        {},
        ["tables/t.yaml: r1: overlaps rule r0 under UNIQUE: both match tight=[hips, glutes]"],
    ),
    (
        "enum_list not() and [] are disjoint",
        "UNIQUE",
        [TIGHT],
        [{"tight": '"hips"'}, {"tight": 'not("hips")'}, {"tight": "null"}],
        {},
        [],
    ),
    (
        "overlap needs every column to intersect",
        "UNIQUE",
        [SADDLE, ROM],
        [
            {"saddle": "true", "rom": '"full"'},
            {"saddle": "false", "rom": '"full"'},
            {"rom": '"full", "reduced"'},
        ],
        {},
        [
            "tables/t.yaml: r2: overlaps rule r0 under UNIQUE: both match saddle=true, rom=full",
            "tables/t.yaml: r2: overlaps rule r1 under UNIQUE: both match saddle=false, rom=full",
        ],
    ),
    (
        "ANY reports overlaps only when outputs differ",
        "ANY",
        [PAIN],
        [{"pain.level": "< 5"}, {"pain.level": "> 3"}],
        {},
        [
            "tables/t.yaml: r1: overlaps with different outputs rule r0 under ANY: "
            "both match pain.level=4"
        ],
    ),
    (
        "FIRST: rule covered by the union of earlier rules is shadowed",
        "FIRST",
        [PAIN],
        [{"pain.level": "< 5"}, {"pain.level": ">= 5"}, {"pain.level": "[2..7]"}],
        {},
        [
            "tables/t.yaml: r2: is shadowed under FIRST by earlier rule(s) r0, r1: "
            "it can never be the first match"
        ],
    ),
    (
        "FIRST: null keeps a rule alive",
        "FIRST",
        [PAIN],
        [{"pain.level": "< 5"}, {"pain.level": ">= 5"}, {"pain.level": "[2..7], null"}],
        {},
        [],
    ),
    (
        "FIRST: a catch-all before others shadows them",
        "FIRST",
        [SADDLE, ROM],
        [{}, {"saddle": "true"}],
        {},
        [
            "tables/t.yaml: r1: is shadowed under FIRST by earlier rule(s) r0: "
            "it can never be the first match"
        ],
    ),
    (
        "gap in a complete table, with a concrete example",
        "FIRST",
        [PAIN],
        [{"pain.level": "< 5"}, {"pain.level": "> 5"}, {"pain.level": "null"}],
        {"complete": True},
        ["tables/t.yaml: -: table is marked complete but no rule matches pain.level=5"],
    ),
    (
        "gap: unanswered must be covered too",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "< 5"}, {"pain.level": ">= 5"}],
        {"complete": True},
        ["tables/t.yaml: -: table is marked complete but no rule matches pain.level=null"],
    ),
    (
        "gap across columns",
        "COLLECT",
        [SADDLE, ROM],
        [{"saddle": "true"}, {"saddle": "false, null", "rom": '"full", "reduced", null'}],
        {"complete": True},
        [
            "tables/t.yaml: -: table is marked complete but no rule matches "
            "saddle=false, rom=very_limited"
        ],
    ),
    (
        "gap in an unbounded number column",
        "FIRST",
        [WEIGHT],
        [{"weight": "[0..100]"}, {"weight": "null"}],
        {"complete": True},
        ["tables/t.yaml: -: table is marked complete but no rule matches weight=-1"],
    ),
    (
        "no gap: int ends meet",
        "UNIQUE",
        [PAIN],
        [{"pain.level": "< 5"}, {"pain.level": ">= 5"}, {"pain.level": "null"}],
        {"complete": True},
        [],
    ),
    (
        "a rule that can never match",
        "COLLECT",
        [PAIN],
        [{"pain.level": "(4..5)"}],
        {},
        [
            "tables/t.yaml: r0: can never match: 'pain.level' test '(4..5)' "
            "matches no value in the input's domain"
        ],
    ),
]


@pytest.mark.parametrize(
    ("policy", "inputs", "cells", "extra", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_static_analysis(
    tmp_path: Path,
    policy: str,
    inputs: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    extra: dict[str, Any],
    expected: list[str],
) -> None:
    assert _check(tmp_path, policy, inputs, cells, **extra) == expected


def test_gap_examples_really_match_no_rule(tmp_path: Path) -> None:
    # The reported example is concrete: evaluating it matches nothing.
    from popcheck.engine import evaluate, load_ruleset

    cells = [{"saddle": "true"}, {"saddle": "false, null", "rom": '"full", "reduced", null'}]
    rules = [rule(f"r{i}", {"o": i}) | {"when": when} for i, when in enumerate(cells)]
    doc = table("t", "COLLECT", [SADDLE, ROM], [OUT], rules)
    ruleset = load_ruleset(write_ruleset(tmp_path, [doc]), FACTS)
    assert evaluate(ruleset, {"saddle": False, "rom": "very_limited"}).results["t"].matches == ()
