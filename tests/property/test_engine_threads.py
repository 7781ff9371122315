"""One Evaluator is shared by every request thread: parallel == sequential."""

from __future__ import annotations

import copy
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from popcheck.engine import EvaluationError, Evaluator, load_ruleset
from tests.support.engine_rules import FACTS, FIXTURE


def _random_facts(rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name, spec in FACTS.items():
        if rng.random() < 0.25:
            continue  # unanswered
        lo, hi = spec.range or (0, 100)
        match str(spec.type):
            case "bool":
                facts[name] = rng.random() < 0.5
            case "int":
                facts[name] = rng.randint(int(lo), int(hi))
            case "number":
                facts[name] = round(rng.uniform(lo, hi), 1)
            case "enum":
                facts[name] = rng.choice(spec.values)
            case _:
                facts[name] = rng.sample(spec.values, rng.randint(0, len(spec.values)))
    return facts


def _answer(evaluator: Evaluator, facts: dict[str, Any]) -> Any:
    try:
        results = evaluator.run(facts)
        evaluation = evaluator.explain(facts)
    except EvaluationError as exc:
        return ("error", str(exc))
    return (
        {name: (r.matches, r.partial, r.value) for name, r in results.items()},
        {name: (r.matches, r.partial, r.value) for name, r in evaluation.results.items()},
        evaluation.trace,
    )


def test_parallel_evaluations_equal_sequential_ones() -> None:
    evaluator = Evaluator(load_ruleset(FIXTURE, FACTS))
    rng = random.Random(20261125)
    payloads = [_random_facts(rng) for _ in range(400)]
    untouched = copy.deepcopy(payloads)
    sequential = [_answer(evaluator, facts) for facts in payloads]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            parallel = list(pool.map(lambda f: _answer(evaluator, f), payloads))
            assert parallel == sequential
    assert payloads == untouched  # evaluation never writes into the caller's facts
