"""popcheck's decision-table engine: a library that knows nothing about backs or HTTP.

Load a rules directory once (``load_ruleset``), then ``evaluate`` it as often as needed,
from any number of threads. ``check_ruleset`` reports every problem without raising.
See ``docs/rules.md`` for the file format.
"""

from service.engine.errors import EngineError, EvaluationError, Finding, RuleError
from service.engine.evaluator import evaluate, evaluator_for, plain_value
from service.engine.model import (
    Aggregation,
    CompiledRule,
    CompiledTable,
    Evaluation,
    FactSpec,
    FactType,
    HitPolicy,
    InputDef,
    Match,
    OutputDef,
    OutputType,
    PartialMatch,
    Ruleset,
    TableResult,
)
from service.engine.ruleset import check_ruleset, load_ruleset

__all__ = [
    "Aggregation",
    "CompiledRule",
    "CompiledTable",
    "EngineError",
    "Evaluation",
    "EvaluationError",
    "FactSpec",
    "FactType",
    "Finding",
    "HitPolicy",
    "InputDef",
    "Match",
    "OutputDef",
    "OutputType",
    "PartialMatch",
    "RuleError",
    "Ruleset",
    "TableResult",
    "check_ruleset",
    "evaluate",
    "evaluator_for",
    "plain_value",
    "load_ruleset",
]
