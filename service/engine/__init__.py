"""popcheck's decision-table engine: a library that knows nothing about backs or HTTP.

Load a rules directory once (``load_ruleset``), build an ``Evaluator`` from it once, then
``run`` it (or ``explain``, with a trace) as often as needed, from any number of threads.
``evaluate`` prepares and interprets the ruleset on every call: convenient, not fast.
``check_ruleset`` reports every problem without raising.
See ``docs/rules.md`` for the file format.
"""

from popcheck.engine.errors import EngineError, EvaluationError, Finding, RuleError
from popcheck.engine.evaluator import Evaluator, evaluate, plain_value
from popcheck.engine.model import (
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
from popcheck.engine.ruleset import build_ruleset, check_ruleset, load_ruleset

__all__ = [
    "Aggregation",
    "CompiledRule",
    "CompiledTable",
    "EngineError",
    "Evaluation",
    "Evaluator",
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
    "build_ruleset",
    "check_ruleset",
    "evaluate",
    "plain_value",
    "load_ruleset",
]
