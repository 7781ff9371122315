"""The gunicorn config freezes the preloaded app before each fork, so a worker's garbage
collections skip the master's objects (no 34 ms pause, no copy of the master's pages)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.deploy.harness import REPO

# In a child process: the config patches gunicorn and sets sys.excepthook when loaded. The
# script plays the master (preload the app, run the hook) and one forked worker, which
# reports what a full collection examines and whether it still answers an assessment.
_MASTER_AND_WORKER = """
import gc, json, os, runpy, sys
settings = runpy.run_path(sys.argv[1])
from popcheck.app import create_app
app = create_app({"TESTING": True})
loaded = len(gc.get_objects())
settings["pre_fork"](None, None)
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read)
    gc.collect()
    examined = len(gc.get_objects())
    answer = app.test_client().post("/assess", json={"age": 44, "duration_days": 21})
    os.write(write, json.dumps({"examined": examined, "status": answer.status_code}).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    child = json.loads(pipe.read())
os.waitpid(pid, 0)
print(json.dumps({"loaded": loaded, **child}))
"""


def test_workers_collect_without_examining_the_preloaded_app() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _MASTER_AND_WORKER, str(REPO / "deploy" / "gunicorn.conf.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO,
        env={
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GUNICORN", "PROMETHEUS_MULTIPROC_DIR"))
        },
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["loaded"] > 20_000  # the app really was built before the hook ran
    # Without the freeze a worker's full collection examines every one of them.
    assert report["examined"] < report["loaded"] // 20
    assert report["status"] == 200
