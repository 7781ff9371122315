"""``popcheck serve`` with a broken ruleset: never ready, exits non-zero, says why in JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service.config import DEFAULT_RULES_DIR
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
