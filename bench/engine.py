"""Engine latency: the shipped ruleset on a payload mix, generated tables of 100 to 10,000
rules, and zen-engine side by side on the JDM export of the same rulesets, in one run.

zen runs on its fastest Python path: one ``ZenEngine`` with a static loader and the
decision created once (its quickstart builds a runtime on every call). Both engines get
the same payloads; zen's time includes handing the nested dict to Rust, which is what a
Python caller pays. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

from popcheck.engine import EngineError, Evaluator, FactSpec, FactType, Ruleset, load_ruleset
from popcheck.engine.jdm import export_jdm, nest
from popcheck.engine.loader import compile_table

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5  # each payload is evaluated this many times per engine, rounds alternating


def _percentiles(samples_ns: Sequence[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    return p50, p99


def _time(
    call: Callable[[Any], Any],
    payloads: Sequence[Any],
    rounds: int = ROUNDS,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> list[int]:
    samples = []
    for _ in range(rounds):
        for payload in payloads:
            start = clock()
            call(payload)
            samples.append(clock() - start)
    return samples


def _time_pair(
    ours: Callable[[Any], Any],
    theirs: Callable[[Any], Any],
    payloads: Sequence[Any],
    nested: Sequence[Any],
) -> tuple[list[int], list[int]]:
    """Alternate rounds of each engine over the whole mix: a noisy neighbour on this
    shared machine hits both alike, and neither pollutes the other's caches mid-round."""
    a: list[int] = []
    b: list[int] = []
    for _ in range(ROUNDS):
        a += _time(ours, payloads, rounds=1)
        b += _time(theirs, nested, rounds=1)
    return a, b


def _random_facts(facts: Mapping[str, FactSpec], rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in facts.items():
        if rng.random() < 0.3:
            out[name] = None
            continue
        lo, hi = spec.range or (0, 100)
        match spec.type:
            case FactType.BOOL:
                out[name] = rng.random() < 0.3
            case FactType.INT:
                out[name] = rng.randint(int(lo), int(min(hi, lo + 200)))
            case FactType.NUMBER:
                out[name] = round(rng.uniform(lo, hi), 1)
            case FactType.ENUM:
                out[name] = rng.choice(spec.values)
            case FactType.ENUM_LIST:
                out[name] = rng.sample(spec.values, rng.randint(0, min(3, len(spec.values))))
    return out


def _zen_decision(ruleset: Ruleset) -> Callable[[Any], Any]:
    """zen's fastest Python call: ``engine.evaluate(key, context)`` on a static loader.

    The static loader compiles the graph once and caches the decision. Measured here, this
    is far cheaper per call than ``ZenDecision.evaluate`` (about 4 µs vs 120 µs on an empty
    graph), so it is the path we compare against.
    """
    import zen

    engine = zen.ZenEngine(
        {"loader": {"type": "static", "content": {"graph": export_jdm(ruleset)}}}
    )
    engine.evaluate("graph", {})  # compile and cache the decision before timing
    return partial(engine.evaluate, "graph")


def _row(label: str, ours: list[int], zen_samples: list[int] | None) -> str:
    p50, p99 = _percentiles(ours)
    line = f"{label:<34} ours p50 {p50:8.1f} µs  p99 {p99:8.1f} µs  (p99/p50 {p99 / p50:4.1f})"
    if zen_samples is not None:
        z50, z99 = _percentiles(zen_samples)
        line += f" | zen p50 {z50:8.1f} µs  p99 {z99:8.1f} µs | zen/ours at p50 {z50 / p50:5.1f}x"
    return line


def shipped_payloads(facts: Mapping[str, FactSpec], count: int) -> list[dict[str, Any]]:
    """The persona examples (through the real flattening) plus seeded random payloads."""
    from popcheck.facts import to_facts

    payloads = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        payloads.append(to_facts(json.loads(path.read_text())))
    rng = random.Random(7)
    while len(payloads) < count:
        payloads.append(_random_facts(facts, rng))
    return payloads


def bench_shipped() -> None:
    """The shipped ruleset, ours vs zen, on the same payload mix."""
    from popcheck.config import DEFAULT_RULES_DIR
    from popcheck.facts import FACTS

    ruleset = load_ruleset(DEFAULT_RULES_DIR, FACTS)
    evaluator = Evaluator(ruleset)
    evaluate = evaluator.run
    payloads = shipped_payloads(FACTS, 2000)
    # Keep only payloads both engines accept (random derived facts can contradict).
    usable = []
    for facts in payloads:
        try:
            evaluate(facts)
        except EngineError:  # random derived facts can contradict: skip that payload
            continue
        usable.append(facts)
    nested = [nest(facts) for facts in usable]
    zen_evaluate = _zen_decision(ruleset)
    rules = sum(len(t.rules) for t in ruleset.tables)
    print(
        f"shipped ruleset {ruleset.name} {ruleset.version}: {len(ruleset.tables)} tables, "
        f"{rules} rules, {len(usable)} payloads x {ROUNDS} rounds"
    )
    for _ in range(200):  # warm both up
        evaluate(usable[0])
        zen_evaluate(nested[0])
    ours, theirs = _time_pair(evaluate, zen_evaluate, usable, nested)
    print(_row("evaluate (explain off)", ours, theirs))
    # This machine is shared: wall-clock p99 mostly measures preemption. The thread's CPU
    # time shows what evaluation itself costs at the tail.
    cpu = _time(evaluate, usable, clock=time.thread_time_ns)
    print(_row("evaluate (explain off), CPU time", cpu, None))
    # zen reports matches only; so does an evaluator asked for no partial matches.
    matches_only = Evaluator(ruleset, partial_for=()).run
    ours, theirs = _time_pair(matches_only, zen_evaluate, usable, nested)
    print(_row("matches only", ours, theirs))
    print(
        _row(
            "evaluate (explain on)",
            _time(evaluator.explain, usable),
            None,
        )
    )


GEN_FACTS: Mapping[str, FactSpec] = {
    "code": FactSpec(FactType.ENUM, values=tuple(f"c{i}" for i in range(2500))),
    "flag": FactSpec(FactType.BOOL),
    "score": FactSpec(FactType.INT, range=(0, 1000)),
}


def generated_ruleset(rules: int, *, discrete: bool) -> Ruleset:
    """A COLLECT table of ``rules`` rules; discrete: keyed by a code with ~4 rules per code.

    Built without the static checker (its exact analysis is a load-time cost, not what is
    measured here).
    """
    rng = random.Random(rules)
    codes = GEN_FACTS["code"].values[: max(1, rules // 4)]
    docs = []
    for i in range(rules):
        lo = rng.randint(0, 900)
        when: dict[str, Any] = {"score": f"[{lo}..{lo + rng.randint(10, 100)}]"}
        if discrete:
            when["code"] = f'"{rng.choice(codes)}"'
            when["flag"] = rng.choice(["true", "false", "-"])
        docs.append(
            {"id": f"g{i}", "when": when, "then": {"points": rng.randint(1, 5)}, "source": "bench"}
        )
    doc = {
        "table": "generated",
        "hit_policy": "COLLECT",
        "inputs": [
            {"name": "code", "type": "enum"},
            {"name": "flag", "type": "bool"},
            {"name": "score", "type": "int"},
        ],
        "outputs": [{"name": "points", "type": "int"}],
        "rules": docs,
    }
    table, findings = compile_table("generated.yaml", doc, GEN_FACTS, {}, {})
    if table is None:
        raise RuntimeError("; ".join(map(str, findings)))
    return Ruleset(
        name=f"generated-{rules}",
        version="0.0.0",
        digest="sha256:-",
        catalog=MappingProxyType({}),
        constants=MappingProxyType({}),
        tables=(table,),
    )


def bench_generated() -> None:
    """Growth with rule count: indexed discrete column vs numeric-only tests."""
    rng = random.Random(11)
    payloads = []
    for _ in range(300):
        payloads.append(
            {
                "code": rng.choice(GEN_FACTS["code"].values[:25]),
                "flag": rng.random() < 0.5,
                "score": rng.randint(0, 1000),
            }
        )
    nested = [nest(p) for p in payloads]
    for discrete in (True, False):
        kind = "code (enum, indexed) + score" if discrete else "score ranges only (no index)"
        print(f"generated COLLECT tables, {kind}:")
        for size in (100, 1000, 10000):
            ruleset = generated_ruleset(size, discrete=discrete)
            zen_evaluate = _zen_decision(ruleset)
            ours_call = Evaluator(ruleset).run
            theirs: list[int] | None = None
            if size <= 1000 or discrete:
                ours, theirs = _time_pair(ours_call, zen_evaluate, payloads, nested)
            else:  # zen on 10,000 unindexed rules would take minutes; ours alone
                ours = _time(ours_call, payloads)
            print(_row(f"  {size:>6} rules", ours, theirs))


def main() -> None:
    """Print every engine figure."""
    bench_shipped()
    print()
    bench_generated()


if __name__ == "__main__":
    main()
