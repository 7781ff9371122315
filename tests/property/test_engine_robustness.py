"""``check_ruleset`` never raises for bad data: any document becomes findings, not a crash."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popcheck.engine import EvaluationError, Evaluator, Finding, check_ruleset, load_ruleset
from tests.support.engine_rules import FACTS, FIXTURE

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(
        ["-", "null", "true", "< 5", "[1..3]", "not(2)", '"hips"', "$older_age", "]1..2]", "x"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["id", "when", "then", "name", "type", "values", "range", "source"]),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=8,
)


def _mutate(doc: Any, path: list[Any], value: Any) -> Any:
    """Replace the node at ``path`` (as far as it exists) with ``value``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict) and doc:
        key = sorted(doc, key=str)[head % len(doc)]
        return {**doc, key: _mutate(doc[key], rest, value)}
    if isinstance(doc, list) and doc:
        i = head % len(doc)
        return [*doc[:i], _mutate(doc[i], rest, value), *doc[i + 1 :]]
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [
            "ruleset.yaml",
            "catalog.yaml",
            "tables/red_flags.yaml",
            "tables/urgency.yaml",
            "tables/stiffness.yaml",
        ]
    ),
    st.lists(st.integers(0, 20), max_size=5),
    JSON,
)
def test_any_mutation_yields_findings_never_an_exception(
    file: str, path: list[int], value: Any
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(shutil.copytree(FIXTURE, Path(tmp) / "mini"))
        doc = yaml.safe_load((root / file).read_text())
        (root / file).write_text(yaml.safe_dump(_mutate(doc, path, value)))
        findings = check_ruleset(root, FACTS)
        assert all(isinstance(f, Finding) and f.file and f.message for f in findings)


@functools.cache
def _fixture() -> Evaluator:
    return Evaluator(load_ruleset(FIXTURE, FACTS))


def _outcome(call: Any, facts: dict[str, Any]) -> Any:
    try:
        results = call(facts)
    except EvaluationError as exc:
        return str(exc)
    return {name: (r.matches, r.partial, r.value) for name, r in results.items()}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FACTS)), JSON, max_size=len(FACTS)))
def test_any_facts_evaluate_or_raise_evaluation_error(facts: dict[str, Any]) -> None:
    """Garbage in is an EvaluationError (a 500 with a reason), never another exception,
    and the same one from the generated function and the interpreter (one fact checker)."""
    evaluator = _fixture()
    explained = _outcome(lambda f: evaluator.explain(f).results, facts)
    assert _outcome(evaluator.run, facts) == explained
