"""Rule hits are set aside per assessment and counted later: none lost, none counted twice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from popcheck.observability import metrics


def _hits(table: str, rule: str) -> float:
    labels = {"table": table, "rule": rule}
    return REGISTRY.get_sample_value("popcheck_rule_hits_total", labels) or 0.0


def test_every_hit_is_counted_once_at_the_flush() -> None:
    metrics.flush_rule_hits()
    before = (_hits("tally_test", "a"), _hits("tally_test", "b"))
    fired = [("tally_test", "a"), ("tally_test", "b"), ("tally_test", "a")]
    metrics.record_assessment({"urgency": {"level": "self_care"}}, fired)
    metrics.record_assessment({"urgency": {"level": "self_care"}}, iter(fired[:1]))
    fired.append(("tally_test", "b"))  # after the call: not part of that assessment
    metrics.flush_rule_hits()
    metrics.flush_rule_hits()
    assert (_hits("tally_test", "a"), _hits("tally_test", "b")) == (before[0] + 3, before[1] + 1)


def test_a_crowded_tally_is_folded_by_the_request_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics.flush_rule_hits()
    monkeypatch.setattr(metrics, "RULE_HIT_MAX_PENDING", 3)
    before = _hits("tally_test", "crowded")
    for _ in range(3):
        metrics.record_assessment({"urgency": {"level": "self_care"}}, [("tally_test", "crowded")])
    # No flush called: the third assessment folded all three.
    assert _hits("tally_test", "crowded") == before + 3


def test_a_forked_child_starts_with_nothing_pending() -> None:
    metrics.flush_rule_hits()
    metrics.record_assessment({"urgency": {"level": "self_care"}}, [("tally_test", "fork")])
    pid = os.fork()
    if pid == 0:  # the child: the parent's pending hit is not its to count
        os._exit(0 if metrics._rule_hits._pending == [] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    metrics.flush_rule_hits()


# Under gunicorn's gevent worker the app is loaded before the fork and gevent patches only in
# the worker, so the tally's lock is a real OS lock while threads are greenlets. Two requests
# recording their first assessments at once must not wait on each other through it (a worker
# once hung there for good, seen as a rolling restart losing two requests).
_FIRST_ASSESSMENTS_UNDER_GEVENT = """
from popcheck.observability import metrics
from gevent import monkey

monkey.patch_all()
import gevent

body = {"urgency": {"level": "self_care"}, "red_flags": []}
jobs = [gevent.spawn(metrics.record_assessment, body, [("t", "r")]) for _ in range(2)]
gevent.joinall(jobs, timeout=10)
print(sum(job.successful() for job in jobs))
"""


def test_concurrent_first_assessments_under_gevent_do_not_hang() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    # A hang blocks the interpreter's only thread, so only a process can be timed out.
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_ASSESSMENTS_UNDER_GEVENT],
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout.split() == [b"2"]
