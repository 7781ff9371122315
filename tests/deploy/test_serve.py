"""``popcheck serve`` with a broken ruleset or a bad setting: never ready, exits non-zero, says
why in one JSON line naming the file or the variable; --announce prints where /docs is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from popcheck.commands.serve import WSGI_TARGET, gunicorn_config_path
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.serversettings import load_server_settings
from tests.deploy.harness import Processes, request, status_or_none, wait_until

pytestmark = pytest.mark.slow


def test_broken_ruleset_never_becomes_ready(procs: Processes, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    broken = sorted((rules / "tables").glob("*.yaml"))[0]
    broken.write_text(broken.read_text() + "\nnot: [closed\n")

    instance = procs.serve(extra_env={"POPCHECK_RULES_DIR": str(rules)}, start=False)
    instance.start(wait_ready=False)
    seen_ready = False

    def exited() -> bool:
        nonlocal seen_ready
        seen_ready = seen_ready or status_or_none(instance.port, "/readyz") == 200
        return instance.process is not None and instance.process.poll() is not None

    wait_until(exited, 30, "popcheck serve to give up on the broken ruleset")
    assert not seen_ready
    assert instance.wait() != 0
    records = [json.loads(line) for line in instance.output_lines()]
    assert any(
        record["level"] == "CRITICAL" and f"tables/{broken.name}" in record["msg"]
        for record in records
    )


def test_a_metrics_directory_that_does_not_exist_yet_is_created(
    procs: Processes, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "not" / "yet" / "there"
    instance = procs.serve(extra_env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    body = request(instance.port, "GET", "/metrics").body.decode()
    assert "popcheck_validation_errors_total 0.0" in body
    assert any(metrics_dir.glob("*.db"))


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("WORKERS", "0", "out of range"),
        ("WORKERS", "zero", "not a whole number"),
        ("PORT", "abc", "not a whole number"),
        ("HOST", "not a host", "not an address"),
        ("REQUEST_TIMEOUT", "0", "out of range"),
        ("WORKER_CONNECTIONS", "many", "not a whole number"),
        ("KEEPALIVE", "-1", "out of range"),
        ("THREADS", "1.5", "not a whole number"),
        ("WORKER_CLASS", "eventlet", "not a worker class"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1,lb", "not an address or network"),
    ],
)
def test_a_bad_setting_exits_at_once_with_one_line_naming_it(
    procs: Processes, variable: str, value: str, problem: str
) -> None:
    instance = procs.serve(extra_env={variable: value}, start=False)
    started = time.monotonic()
    instance.start(wait_ready=False)
    status = instance.wait(timeout=10)
    assert time.monotonic() - started < 10
    assert status == 2
    lines = instance.output_lines()
    assert len(lines) == 1, lines
    message = json.loads(lines[0])["msg"]
    assert message.startswith(f"invalid setting: {variable}={value!r} ")
    assert problem in message and "allowed: " in message


@pytest.mark.parametrize(("variable", "value"), [("WORKERS", "0"), ("PORT", "abc")])
def test_gunicorn_with_the_config_alone_names_the_setting_too(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {**os.environ, variable: value}
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(gunicorn_config_path()), WSGI_TARGET],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"popcheck: invalid setting: {variable}={value!r} ")


def test_announce_prints_one_plain_line_with_the_docs_address(procs: Processes) -> None:
    instance = procs.serve(start=False)
    instance.start(args=("--announce",))
    url = f"http://127.0.0.1:{instance.port}/docs"
    stderr = instance.outputs[-1]
    wait_until(lambda: url in stderr.read_text(), 10, "the ready line")
    assert stderr.read_text().splitlines() == [f"popcheck is ready: open {url} (Ctrl-C stops it)"]
    records = [json.loads(line) for line in instance.outputs[-2].read_text().splitlines()]
    assert any(url in record["msg"] for record in records)


def test_without_host_it_listens_on_loopback_only(procs: Processes) -> None:
    env = {key: value for key, value in os.environ.items() if key != "HOST"}
    assert load_server_settings(env).host == "127.0.0.1"
