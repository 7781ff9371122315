"""Build small rules directories for engine tests without touching ``service/rules``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from popcheck.engine import FactSpec, FactType, Finding, Ruleset, load_ruleset

FIXTURE = Path(__file__).resolve().parents[1] / "unit" / "engine" / "fixtures" / "mini"

#: The facts the fixture ruleset and the generated tables read.
FACTS: Mapping[str, FactSpec] = {
    "age": FactSpec(FactType.INT, range=(16, 120)),
    "pain.level": FactSpec(FactType.INT, range=(0, 10)),
    "sitting_hours": FactSpec(FactType.NUMBER, range=(0, 24)),
    "weight": FactSpec(FactType.NUMBER),
    "saddle": FactSpec(FactType.BOOL),
    "fever": FactSpec(FactType.BOOL),
    "rom": FactSpec(FactType.ENUM, values=("full", "reduced", "very_limited")),
    "tight": FactSpec(FactType.ENUM_LIST, values=("lower_back", "hips", "glutes", "core")),
}


def table(
    name: str,
    hit_policy: str,
    inputs: Sequence[Mapping[str, Any]],
    outputs: Sequence[Mapping[str, Any]],
    rules: Sequence[Mapping[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """A table document; rules get ``source: test`` unless they say otherwise."""
    return {
        "table": name,
        "hit_policy": hit_policy,
        **extra,
        "inputs": list(inputs),
        "outputs": list(outputs),
        "rules": [{"source": "test", **rule} for rule in rules],
    }


def rule(rule_id: str, then: Mapping[str, Any], **when: Any) -> dict[str, Any]:
    """A rule; ``when`` keys use ``__`` for dots (``pain__level`` tests ``pain.level``)."""
    return {
        "id": rule_id,
        "when": {k.replace("__", "."): v for k, v in when.items()},
        "then": dict(then),
    }


def write_ruleset(
    directory: Path,
    tables: Sequence[Mapping[str, Any]],
    *,
    catalog: Mapping[str, Any] | None = None,
    constants: Mapping[str, int | float] | None = None,
) -> Path:
    """Write ruleset.yaml, tables/<name>.yaml and catalog.yaml under ``directory``."""
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    files = []
    for doc in tables:
        rel = f"tables/{doc['table']}.yaml"
        (directory / rel).write_text(yaml.safe_dump(dict(doc), sort_keys=False))
        files.append(rel)
    ruleset = {
        "name": "test",
        "version": "0.1.0",
        "tables": files,
        "catalog": "catalog.yaml",
        "constants": dict(constants or {}),
    }
    (directory / "ruleset.yaml").write_text(yaml.safe_dump(ruleset, sort_keys=False))
    (directory / "catalog.yaml").write_text(yaml.safe_dump(dict(catalog or {})))
    return directory


def build(
    directory: Path,
    *tables: Mapping[str, Any],
    facts: Mapping[str, FactSpec] = FACTS,
    **kwargs: Any,
) -> Ruleset:
    """Write the tables and load them (raises ``RuleError`` on findings)."""
    return load_ruleset(write_ruleset(directory, tables, **kwargs), facts)


def fact_values(spec: FactSpec) -> Any:
    """A hypothesis strategy for one fact's values, ``None`` (unanswered) included."""
    from hypothesis import strategies as st

    lo, hi = spec.range if spec.range is not None else (-1000.0, 1000.0)
    match spec.type:
        case FactType.BOOL:
            values: Any = st.booleans()
        case FactType.INT:
            values = st.integers(int(lo), int(hi))
        case FactType.NUMBER:
            # Half steps hit range ends and integer literals exactly, where bugs live.
            values = st.integers(int(lo * 2), int(hi * 2)).map(lambda n: n / 2)
        case FactType.ENUM:
            values = st.sampled_from(spec.values)
        case FactType.ENUM_LIST:
            values = st.lists(st.sampled_from(spec.values), unique=True, max_size=len(spec.values))
    return st.one_of(st.none(), values)


def facts_strategy(facts: Mapping[str, FactSpec]) -> Any:
    """Flat fact mappings where every fact may be unanswered."""
    from hypothesis import strategies as st

    return st.fixed_dictionaries({name: fact_values(spec) for name, spec in facts.items()})


def unlocated(finding: Finding) -> str:
    """``str(finding)`` without its line number: ``file: rule id: message``. Tests of what a
    finding says use this; tests of where it points read ``finding.line``."""
    return f"{finding.file}: {finding.rule_id or '-'}: {finding.message}"
