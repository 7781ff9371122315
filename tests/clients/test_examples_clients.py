"""``examples/clients/assess.py`` as a caller runs it: the generated client importable, the
service listening on 127.0.0.1 (werkzeug's server in a thread, over the app)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.clients.conftest import ROOT, Generated

SCRIPT = ROOT / "examples" / "clients" / "assess.py"


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def _run(generated: Generated, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(generated.folder)}
    env.pop("POPCHECK_API_KEY", None)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_python_example_assesses(generated: Generated, base_url: str) -> None:
    result = _run(generated, base_url, str(ROOT / "examples" / "red_flag_emergency.json"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("emergency: ")
    assert any(line.startswith("red flag: ") for line in lines), result.stdout


def test_the_python_example_names_each_invalid_field(
    generated: Generated, base_url: str, tmp_path: os.PathLike[str]
) -> None:
    request = os.path.join(tmp_path, "invalid.json")
    with open(request, "w") as file:
        file.write('{"age": 12, "pain": {"level": 11}}')
    result = _run(generated, base_url, request)
    assert result.returncode == 1, result.stdout + result.stderr
    assert {line.split(":")[0] for line in result.stderr.splitlines()} == {"age", "pain.level"}
