"""In-process cost: ``POST /assess`` through Flask's test client against the bare Flask app
(``bench/_bare_app.py``: parse the JSON, return a fixed body of the same size) on the same
payload mix, interleaved request by request, medians side by side.

The difference is what popcheck adds to a request on top of Flask itself (goal: at most
60 µs). The same mix as FHIR QuestionnaireResponses (``application/fhir+json``, the same
answers, so the same assessments) goes to the same service in the same rounds, and what it
adds over its JSON twin is printed after. A breakdown of the service's own stages, called
directly, follows, to show where that time goes. Figures are printed, never asserted.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import _bare_app
from bench._payloads import examples, payload_mix, questionnaire_response_mix

ROUNDS = int(os.environ.get("BENCH_INPROCESS_ROUNDS", "40"))
GOAL_US = 60.0
JSON = "application/json"
FHIR_JSON = "application/fhir+json"


def _median_us(samples: Sequence[int]) -> float:
    return statistics.median(samples) / 1000


def _p90_us(samples: Sequence[int]) -> float:
    return sorted(samples)[int(len(samples) * 0.9)] / 1000


def _best_us(samples: Sequence[int], per_round: int) -> float:
    """Mean over the payloads of each payload's fastest round (samples are round-major)."""
    fastest = [min(samples[i::per_round]) for i in range(per_round)]
    return statistics.mean(fastest) / 1000


def _stage(
    call: Callable[[Any], Any],
    inputs: Sequence[Any],
    rounds: int,
    between: Callable[[int], None] | None = None,
) -> float:
    """Median µs of ``call`` over ``inputs``; ``between(i)``, untimed, runs before each call."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(rounds):
        for i, item in enumerate(inputs):
            if between is not None:
                between(i)
            started = clock()
            call(item)
            samples.append(clock() - started)
    return _median_us(samples)


def mean_answer_bytes(payloads: Sequence[bytes], content_type: str = JSON) -> int:
    """The mean size of the service's answers to ``payloads`` sent as ``content_type`` (the
    bare app's body size); raises if any payload is refused, since the mix must be all valid
    requests."""
    from popcheck.app import create_app

    client = create_app({"TESTING": True}).test_client()
    sizes = []
    for body in payloads:
        response = client.post("/assess", data=body, content_type=content_type)
        if response.status_code != 200:
            raise RuntimeError(f"payload refused ({response.status_code}): {body[:200]!r}")
        sizes.append(len(response.get_data()))
    return round(statistics.mean(sizes))


class _AnsweredAssessor:
    """Stands in for the ``Assessor`` with its answers worked out beforehand, handed out in
    the order the payloads are sent: the service with the rules made free, which splits
    what the service adds into the HTTP layer's share and the rules' share."""

    def __init__(self, real: Any, payloads: Sequence[bytes]) -> None:
        from popcheck.intake import load_request
        from popcheck.jsontext import parse_json_object

        self.ruleset = real.ruleset
        self._answers = []
        for body in payloads:
            fired: list[tuple[str, str]] = []
            result = real.assess(load_request(parse_json_object(body)), fired=fired)
            self._answers.append((result, fired))
        self._next = 0

    def assess(
        self, request: Any, *, explain: bool = False, fired: list[Any] | None = None
    ) -> dict[str, Any]:
        result, pairs = self._answers[self._next % len(self._answers)]
        self._next += 1
        if fired is not None:
            fired.extend(pairs)
        return dict(result)


def main() -> None:
    """Print the side-by-side medians and the stage breakdown."""
    from popcheck.app import create_app
    from popcheck.state import get_state

    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # in-process registry, as in tests
    payloads = payload_mix()
    responses = questionnaire_response_mix(payloads)  # the same answers, one for one
    service_app = create_app({"TESTING": True})
    service = service_app.test_client()
    stubbed_app = create_app({"TESTING": True})
    state = get_state(stubbed_app)
    stubbed_app.extensions["popcheck"] = dataclasses.replace(
        state, assessor=_AnsweredAssessor(state.assessor, payloads)
    )
    stubbed = stubbed_app.test_client()

    size = mean_answer_bytes(payloads)
    bare = _bare_app.create_app(size).test_client()

    def post(client: Any, body: bytes, content_type: str = JSON) -> None:
        client.post("/assess", data=body, content_type=content_type).close()

    for _ in range(3):  # warm all four (imports, caches, branch predictors)
        for body, resource in zip(payloads, responses, strict=True):
            for client in (service, stubbed, bare):
                post(client, body)
            post(service, resource, FHIR_JSON)

    clock = time.perf_counter_ns
    ours: list[int] = []
    layer: list[int] = []
    theirs: list[int] = []
    fhir: list[int] = []  # the service, the same answers as a QuestionnaireResponse
    for round_ in range(ROUNDS):
        for body, resource in zip(payloads, responses, strict=True):
            # Rotate which goes first so none always runs on a warmer cache.
            quartet = [
                (service, body, JSON, ours),
                (stubbed, body, JSON, layer),
                (bare, body, JSON, theirs),
                (service, resource, FHIR_JSON, fhir),
            ]
            shift = round_ % len(quartet)
            for client, data, content_type, samples in quartet[shift:] + quartet[:shift]:
                started = clock()
                post(client, data, content_type)
                samples.append(clock() - started)

    ours_us, layer_us, theirs_us = _median_us(ours), _median_us(layer), _median_us(theirs)
    added = ours_us - theirs_us
    verdict = "meets" if added <= GOAL_US else "misses"
    print(
        f"payload mix: {len(payloads)} requests ({len(examples())} personas + generated), "
        f"{ROUNDS} rounds, mean answer {size} bytes"
    )
    print(f"{'':<34}{'p50 µs':>10}{'p90 µs':>10}")
    print(f"{'service (test client)':<34}{ours_us:>10.1f}{_p90_us(ours):>10.1f}")
    print(f"{'service, answers precomputed':<34}{layer_us:>10.1f}{_p90_us(layer):>10.1f}")
    print(f"{'bare Flask (test client)':<34}{theirs_us:>10.1f}{_p90_us(theirs):>10.1f}")
    fhir_us = _median_us(fhir)
    print(f"{'service, QuestionnaireResponse':<34}{fhir_us:>10.1f}{_p90_us(fhir):>10.1f}")
    print(
        f"service adds {added:.1f} µs per request at the median "
        f"(goal <= {GOAL_US:.0f} µs: {verdict}): HTTP layer {layer_us - theirs_us:.1f} µs "
        f"(validation, hooks, ids, metrics, encoding), rules {ours_us - layer_us:.1f} µs"
    )
    # An absolute µs figure moves with the machine: the same code measured about 90 µs on one
    # machine of this workplace and 128 µs on a slower one. Divided by a bare Flask request
    # timed in the same run, most of the machine's speed cancels out.
    print(f"that is {added / theirs_us:.0%} of a bare Flask request on this machine")
    # On a shared machine the medians move with the neighbours' load; each payload's fastest
    # round does not, so this figure is the one to compare between runs.
    best = {
        name: _best_us(samples, len(payloads))
        for name, samples in (
            ("service", ours),
            ("layer", layer),
            ("bare", theirs),
            ("fhir", fhir),
        )
    }
    print(
        f"same, fastest round per payload (steadier under load): service adds "
        f"{best['service'] - best['bare']:.1f} µs: HTTP layer {best['layer'] - best['bare']:.1f}"
        f" µs, rules {best['service'] - best['layer']:.1f} µs"
    )
    mean_request = statistics.mean(len(resource) for resource in responses)
    mean_json = statistics.mean(len(body) for body in payloads)
    print(
        f"QuestionnaireResponse (application/fhir+json, mean body {mean_request:.0f} bytes "
        f"against {mean_json:.0f} as JSON): {fhir_us:.1f} µs at the median, "
        f"{fhir_us - ours_us:.1f} µs more than the same request as JSON "
        f"({best['fhir'] - best['service']:.1f} µs at the fastest round per payload)"
    )

    _breakdown(payloads, responses)


def _breakdown(payloads: Sequence[bytes], responses: Sequence[bytes]) -> None:
    """The service's stages called directly, median per request over the mix: back to back
    (warm), and each right after a bare Flask request, as in a worker, where the CPU caches
    hold Flask's working set rather than ours. The gap between the two columns is what the
    code and data a stage touches cost in cache misses; it is why a stage's share of a real
    request is larger than its warm figure. ``responses`` are ``payloads`` as
    QuestionnaireResponses: the two rows marked QR are what such a request does instead of
    parsing the JSON request; from the document on, both take the same path."""
    from popcheck.api.assess import _encode
    from popcheck.app import create_app
    from popcheck.assessment import load_assessor
    from popcheck.config import DEFAULT_RULES_DIR
    from popcheck.engine import Evaluator
    from popcheck.facts import to_facts
    from popcheck.fhir import document_from_response
    from popcheck.intake import load_request
    from popcheck.jsontext import parse_json_object
    from popcheck.state import get_state

    assessor = load_assessor(DEFAULT_RULES_DIR)
    # The tables whose partial matches become questions (those with a ``level`` output).
    asking = [
        table.name
        for table in assessor.ruleset.tables
        if any(output.name == "level" for output in table.outputs)
    ]
    documents = [parse_json_object(body) for body in payloads]
    form = get_state(create_app({"TESTING": True})).intake  # the Questionnaire served
    resources = [parse_json_object(resource) for resource in responses]

    def from_response(resource: dict[str, Any]) -> dict[str, Any]:
        return document_from_response(form, resource)

    loaded = [load_request(document) for document in documents]
    facts = [to_facts(request) for request in loaded]
    results = [assessor.assess(request) for request in loaded]
    bare = _bare_app.create_app(len(_encode(results[0]))).test_client()

    def flask_request(i: int) -> None:
        bare.post("/assess", data=payloads[i], content_type="application/json").close()

    stages: list[tuple[str, Callable[[Any], Any], Sequence[Any]]] = [
        ("parse JSON", parse_json_object, payloads),
        ("QR: parse JSON", parse_json_object, responses),
        ("QR: FHIR -> document", from_response, resources),
        ("validate (schema)", load_request, documents),
        ("to_facts", to_facts, loaded),
        # As the assessor runs it: partial matches for the tables that ask questions only.
        ("evaluate (engine)", Evaluator(assessor.ruleset, partial_for=asking).run, facts),
        ("  every partial match", Evaluator(assessor.ruleset).run, facts),
        ("assess (all rules)", assessor.assess, loaded),
        ("encode JSON", _encode, results),
    ]
    rounds = max(5, ROUNDS // 2)
    print("stages, called directly (median µs per request):")
    print(f"  {'':<22}{'warm':>8}{'after a Flask request':>24}")
    for name, call, inputs in stages:
        warm = _stage(call, inputs, rounds)
        cold = _stage(call, inputs, rounds, between=flask_request)
        print(f"  {name:<22}{warm:8.1f}{cold:24.1f}")
