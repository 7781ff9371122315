"""Prometheus metrics, exact over any number of gunicorn workers.

In production ``popcheck serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before gunicorn starts, so
prometheus-client (which reads it when first imported) keeps every value in per-process files
and each scrape sums them into a fresh registry (``MultiProcessCollector.merge``). The gunicorn
hooks in ``deploy/gunicorn.conf.py`` wipe that directory at start-up and mark dead workers,
which keeps the sums exact across restarts and worker recycling. Without the variable (unit
tests, a bare ``flask run``) the default in-process registry is used. Only prometheus-client's
public API is used (metrics, ``labels()`` children and their ``inc``/``observe``/``set``).

Labels are bounded by construction: routes are URL rule templates (or ``UNMATCHED_ROUTE``),
urgencies, flags and rule ids come from the loaded ruleset, and statuses are HTTP codes.
"""

from __future__ import annotations

import collections
import glob
import itertools
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Route label for requests that matched no URL rule (404s, and 405s, which werkzeug reports
# before a rule is bound): a scanner walking random paths adds one series, not thousands.
UNMATCHED_ROUTE = "<unmatched>"

# An assessment takes well under a millisecond in-process, so the buckets start at 100 µs;
# the top ones catch a stalled worker rather than describe normal traffic.
DURATION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
    5.0,
)

HTTP_REQUESTS = Counter(
    "popcheck_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
)
HTTP_DURATION = Histogram(
    "popcheck_http_request_duration_seconds",
    "Time spent in the Flask app per request, by method and route template.",
    ("method", "route"),
    buckets=DURATION_BUCKETS,
)
ASSESSMENTS = Counter(
    "popcheck_assessments",
    "Assessments returned, by urgency level.",
    ("urgency",),
)
RED_FLAGS = Counter(
    "popcheck_red_flags",
    "Red flags reported in assessments, by flag id.",
    ("flag",),
)
RULE_HITS = Counter(
    "popcheck_rule_hits",
    "Decision-table rules that matched, by table and rule id.",
    ("table", "rule"),
)
CDS_FEEDBACK = Counter(
    "popcheck_cds_feedback",
    "CDS Hooks card feedback received, by outcome (accepted, overridden).",
    ("outcome",),
)
# Every metric above has labels, so prometheus-client creates its value files on first use.
# A metric without labels would create one at import, i.e. in every ``popcheck`` command that
# imports this module, even before ``popcheck serve`` has created the directory. This one is
# therefore built by ``init_process_metrics`` (app creation, and each gunicorn worker).
_VALIDATION_ERRORS_NAME = "popcheck_validation_errors"
_VALIDATION_ERRORS_HELP = "Requests rejected with 422 because the JSON failed validation."
_validation_errors: Counter | None = None
_init_lock = threading.Lock()
RULESET_INFO = Gauge(
    "popcheck_ruleset_info",
    "The loaded ruleset (always 1); the labels say which one.",
    ("name", "version", "digest"),
    # One series per label set however many workers run, and a dead worker's value goes with
    # it (``mark_process_dead``), so a rolled-out ruleset does not linger in the scrape.
    multiprocess_mode="livemax",
)

# gunicorn accepts any method token; anything outside these is counted as OTHER so that a
# client inventing methods cannot create series either.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"

# ``labels()`` takes a lock and rebuilds its key on every call, so each child is looked up
# once per label set and kept here, keyed by what the caller has at hand; label values are
# bounded (see above), so these stay small. Only the children's public ``inc``/``observe`` are
# called. In multiprocess mode prometheus-client notices a fork by itself (each write checks
# the pid), so children kept here before gunicorn forks write to the worker's own files.
_request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
_urgency_children: dict[str, Counter] = {}
_flag_children: dict[str, Counter] = {}
_feedback_children: dict[str, Counter] = {}
CDS_OUTCOMES = frozenset({"accepted", "overridden"})


def multiprocess_dir() -> str | None:
    """The multiprocess directory when running under ``popcheck serve``, else ``None``."""
    return os.environ.get(MULTIPROC_ENV) or None


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration; ``route`` must be a template."""
    children = _request_children.get((method, route, status))
    if children is None:
        children = _request_children_for(method, route, status)
    requests, duration = children
    requests.inc()
    duration.observe(seconds)
    if status == 422:
        (_validation_errors or init_process_metrics()).inc()


def _request_children_for(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    # Keyed by what the hook has at hand (the int status, the method as sent), so a request
    # costs one dict lookup; the labels are worked out here, once per combination.
    labelled = method if method in KNOWN_METHODS else OTHER_METHOD
    children = (
        HTTP_REQUESTS.labels(labelled, route, str(status)),
        HTTP_DURATION.labels(labelled, route),
    )
    if method not in KNOWN_METHODS:
        # An invented method is counted, but not remembered: a client sending thousands of
        # them must not grow this cache.
        return children
    return _request_children.setdefault((method, route, status), children)


def init_process_metrics() -> Counter:
    """Create the metrics that have no labels (so they are exported as 0 from the start);
    returns the validation error counter. Idempotent and thread-safe."""
    global _validation_errors
    with _init_lock:
        if _validation_errors is None:
            _validation_errors = Counter(_VALIDATION_ERRORS_NAME, _VALIDATION_ERRORS_HELP)
        return _validation_errors


def record_assessment(
    assessment: Mapping[str, Any], fired_rules: Iterable[tuple[str, str]]
) -> None:
    """Count one assessment: its urgency, each red flag, and each ``(table, rule)`` that fired.

    The assess view calls this once per successful assessment. Only ids from the ruleset are
    used as labels; nothing from the request itself.
    """
    level = str(assessment["urgency"]["level"])
    counter = _urgency_children.get(level)
    if counter is None:
        counter = _urgency_children.setdefault(level, ASSESSMENTS.labels(level))
    counter.inc()
    for flag in assessment.get("red_flags", ()):
        flag_id = str(flag["id"])
        flag_counter = _flag_children.get(flag_id)
        if flag_counter is None:
            flag_counter = _flag_children.setdefault(flag_id, RED_FLAGS.labels(flag_id))
        flag_counter.inc()
    _rule_hits.add(fired_rules)


def record_cds_feedback(outcome: str) -> None:
    """Count one card's feedback; ``outcome`` is ``accepted`` or ``overridden`` (anything
    else is refused before it gets here, so the label stays bounded)."""
    if outcome not in CDS_OUTCOMES:
        raise ValueError(f"unknown CDS feedback outcome {outcome!r}")
    counter = _feedback_children.get(outcome)
    if counter is None:
        counter = _feedback_children.setdefault(outcome, CDS_FEEDBACK.labels(outcome))
    counter.inc()


# Rules fire 7 to 29 times per assessment with the shipped tables, and one multiprocess
# counter increment costs about 2 µs (a lock and an mmap write). So each assessment's hits are
# set aside as they are, counted and folded into RULE_HITS at most RULE_HIT_FLUSH_SECONDS
# later by a thread in each worker, and at once by ``flush_rule_hits`` (each scrape, each
# worker exit). A scrape may lag behind by that second; the assessment and request counters
# are exact at every scrape.
RULE_HIT_FLUSH_SECONDS = 1.0
# Set-aside assessments beyond which the request that adds one folds them itself, so memory
# stays bounded even if the flusher thread were gone.
RULE_HIT_MAX_PENDING = 10_000


class _RuleHitTally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[tuple[str, str], ...]] = []
        self._flusher_started = False
        # Threads do not survive gunicorn's fork, and hits set aside before it are the
        # parent's to flush: a child starts with nothing pending and starts its own flusher.
        os.register_at_fork(after_in_child=self._forget)

    def add(self, hits: Iterable[tuple[str, str]]) -> None:
        # Counting here cost about 1.2 µs per assessment (hashing 7 to 29 pairs); setting the
        # pairs aside is a copy, and the flusher counts a second's worth in one C-level pass.
        batch = tuple(hits)
        with self._lock:
            self._pending.append(batch)
            crowded = len(self._pending) >= RULE_HIT_MAX_PENDING
            start_flusher = not self._flusher_started
            self._flusher_started = True
        # Nothing that can wait runs while the lock is held. Under the gevent worker the lock
        # is a real one (made before gunicorn's fork, and gevent patches only after it), while
        # ``Thread.start`` waits for the new greenlet to run: holding the lock across it let a
        # second request's ``add`` block the worker's only OS thread, and the worker hung.
        if start_flusher:
            threading.Thread(target=self._run, name="popcheck-rule-hits", daemon=True).start()
        if crowded:
            self.flush()

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._pending = []
        self._flusher_started = False

    def _run(self) -> None:
        while True:
            time.sleep(RULE_HIT_FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batches, self._pending = self._pending, []
        counts = collections.Counter(itertools.chain.from_iterable(batches))
        for (table, rule), count in counts.items():
            RULE_HITS.labels(table, rule).inc(count)


_rule_hits = _RuleHitTally()


def flush_rule_hits() -> None:
    """Fold this process's pending rule hits into ``popcheck_rule_hits_total`` now."""
    _rule_hits.flush()


def set_ruleset_info(name: str, version: str, digest: str) -> None:
    """Publish which ruleset this process serves. Call it in every worker (``post_fork``):
    a value set in the gunicorn master before forking is not inherited by the workers."""
    RULESET_INFO.labels(name, version, digest).set(1)


class _SettledFilesCollector:
    """prometheus-client's ``MultiProcessCollector``, skipping value files a worker is
    creating at this moment.

    prometheus-client creates a worker's file empty and only then sizes it; a scrape that
    reads it in between fails on the missing header (seen as a 500 on /metrics while workers
    were being recycled). An empty file holds no values yet, so skipping it loses nothing.
    The files are merged by the collector's public ``merge``, as its own ``collect`` does.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def collect(self) -> Iterable[Any]:
        files = []
        for name in glob.glob(os.path.join(self.directory, "*.db")):
            try:
                if os.path.getsize(name) > 0:
                    files.append(name)
            except FileNotFoundError:  # a dead worker's live gauge, removed since the glob
                continue
        return multiprocess.MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call,no-any-return]


def render() -> tuple[bytes, str]:
    """The scrape body and its content type: the sum over every worker in multiprocess mode,
    built from a fresh registry each time (reusing one would export duplicates)."""
    flush_rule_hits()
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY), CONTENT_TYPE
    registry = CollectorRegistry()
    registry.register(_SettledFilesCollector(directory))
    return generate_latest(registry), CONTENT_TYPE


def wipe_multiprocess_dir() -> None:
    """Empty the multiprocess directory (gunicorn ``on_starting``): files left by a previous
    run would otherwise be summed into this one. The directory itself is kept, because in a
    container it is usually a mounted volume."""
    directory = multiprocess_dir()
    if directory is None:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)


def mark_worker_dead(pid: int) -> None:
    """Drop a dead worker's live gauge files (gunicorn ``child_exit``); counters it wrote
    stay, so totals survive worker restarts."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
