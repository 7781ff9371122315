"""``metrics.py`` keeps the ``labels()`` children it has looked up; in multiprocess mode a child
kept before a fork (gunicorn's master, then a worker) must still write to the files of the
process that writes, so that the scrape sums every process exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from popcheck.observability import metrics

_FORKING_SCRIPT = textwrap.dedent(
    """
    import json, os
    from popcheck.observability import metrics

    metrics.record_request("POST", "/fork-test", 200, 0.0003)  # child kept by the parent
    metrics.record_assessment({"urgency": {"level": "fork_test"}}, ())
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


def test_children_kept_before_a_fork_write_to_the_forked_process_files(tmp_path: Path) -> None:
    directory = tmp_path / "prom"
    directory.mkdir()
    env = {**os.environ, metrics.MULTIPROC_ENV: str(directory)}
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
    assert {f"counter_{out['child']}.db", f"counter_{out['parent']}.db"} <= files
    lines = out["body"].splitlines()
    for expected in (
        'popcheck_http_requests_total{method="POST",route="/fork-test",status="200"} 4.0',
        'popcheck_http_request_duration_seconds_bucket{le="0.0005",method="POST",'
        'route="/fork-test"} 2.0',
        'popcheck_http_request_duration_seconds_bucket{le="0.0025",method="POST",'
        'route="/fork-test"} 4.0',
        'popcheck_http_request_duration_seconds_count{method="POST",route="/fork-test"} 4.0',
        'popcheck_assessments_total{urgency="fork_test"} 2.0',
    ):
        assert expected in lines
