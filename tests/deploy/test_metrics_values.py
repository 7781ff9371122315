"""Request and assessment metrics are written straight to their values (``metrics.py``): the
exposition must be exactly what ``Counter.inc`` and ``Histogram.observe`` produce, in-process
and in multiprocess mode, where a forked worker must still write to files of its own pid."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from service.observability import metrics

# Every bucket bound, each side of it, and the extremes, including a NaN (in no bucket).
_BOUNDS = list(metrics.DURATION_BUCKETS)
_DURATIONS = [
    0.0,
    -1.0,
    1e-9,
    *_BOUNDS,
    *(math.nextafter(b, 0.0) for b in _BOUNDS),
    *(math.nextafter(b, math.inf) for b in _BOUNDS),
    6.0,
    1e9,
    math.inf,
    math.nan,
]


def _samples(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> list[object]:
    found = []
    for family in registry.collect():
        for sample in family.samples:
            # ``_created`` is the time the child was made, different for any two children.
            if sample.name.endswith("_created"):
                continue
            if sample.name.startswith(name) and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                rest = {k: v for k, v in sample.labels.items() if k not in labels}
                found.append((sample.name, sorted(rest.items()), repr(sample.value)))
    return sorted(found)


def test_the_request_series_match_the_public_calls() -> None:
    route = "/values-test/<n>"
    reference = CollectorRegistry()
    counter = Counter("ref_requests", "x", ("method", "route", "status"), registry=reference)
    histogram = Histogram(
        "ref_duration", "x", ("method", "route"), buckets=_BOUNDS, registry=reference
    )
    for seconds in _DURATIONS:
        metrics.record_request("POST", route, 200, seconds)
        counter.labels("POST", route, "200").inc()
        histogram.labels("POST", route).observe(seconds)
    from prometheus_client import REGISTRY

    mine = _samples(REGISTRY, "popcheck_http_request_duration_seconds", {"route": route})
    theirs = _samples(reference, "ref_duration", {"route": route})
    assert [(n.replace("popcheck_http_request_duration_seconds", "d"), *r) for n, *r in mine] == [
        (n.replace("ref_duration", "d"), *r) for n, *r in theirs
    ]
    assert REGISTRY.get_sample_value(
        "popcheck_http_requests_total", {"method": "POST", "route": route, "status": "200"}
    ) == reference.get_sample_value(
        "ref_requests_total", {"method": "POST", "route": route, "status": "200"}
    )


def test_urgency_and_flag_counters_count_once_per_assessment() -> None:
    from prometheus_client import REGISTRY

    def value(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        value("popcheck_assessments_total", {"urgency": "values_test"}),
        value("popcheck_red_flags_total", {"flag": "values_flag"}),
    )
    assessment = {"urgency": {"level": "values_test"}, "red_flags": [{"id": "values_flag"}]}
    metrics.record_assessment(assessment, ())
    metrics.record_assessment(assessment, ())
    assert (
        value("popcheck_assessments_total", {"urgency": "values_test"}),
        value("popcheck_red_flags_total", {"flag": "values_flag"}),
    ) == (before[0] + 2, before[1] + 2)


_FORKING_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from service.observability import metrics

    metrics.record_request("POST", "/fork-test", 200, 0.0003)  # the parent's own file
    child = os.fork()
    if child == 0:
        metrics.record_request("POST", "/fork-test", 200, 0.002)
        metrics.record_request("POST", "/fork-test", 200, 0.002)
        metrics.record_assessment({"urgency": {"level": "fork_test"}}, ())
        os._exit(0)
    os.waitpid(child, 0)
    metrics.record_request("POST", "/fork-test", 200, 0.0003)
    body, _ = metrics.render()
    print(json.dumps({"parent": os.getpid(), "child": child, "body": body.decode()}))
    """
)


def test_a_forked_process_writes_to_files_of_its_own_pid(tmp_path: Path) -> None:
    directory = tmp_path / "prom"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if k != metrics.MULTIPROC_ENV}
    env[metrics.MULTIPROC_ENV] = str(directory)
    done = subprocess.run(
        [sys.executable, "-c", _FORKING_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    out = json.loads(done.stdout)
    files = {p.name for p in directory.iterdir()}
    assert f"counter_{out['child']}.db" in files
    assert f"counter_{out['parent']}.db" in files
    lines = out["body"].splitlines()
    assert (
        'popcheck_http_requests_total{method="POST",route="/fork-test",status="200"} 4.0' in lines
    )
    assert (
        'popcheck_http_request_duration_seconds_bucket{le="0.0005",method="POST",'
        'route="/fork-test"} 2.0' in lines
    )
    assert (
        'popcheck_http_request_duration_seconds_bucket{le="0.0025",method="POST",'
        'route="/fork-test"} 4.0' in lines
    )
    assert 'popcheck_assessments_total{urgency="fork_test"} 1.0' in lines


def test_the_exposition_is_what_prometheus_client_writes() -> None:
    # generate_latest over the default registry still works with the values written directly.
    assert b"popcheck_http_requests_total" in generate_latest()
