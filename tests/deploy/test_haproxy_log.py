"""deploy/haproxy.cfg logs one JSON object per request, joinable to popcheck's access line.

One instance behind HAProxy (the shipped config): a few requests, then every request line
HAProxy wrote is parsed. The query string is never logged; the request id HAProxy records
is the one popcheck answered with, and so the one on popcheck's own access line.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.harness import ASSESS_BODY, HOST, REPO, Processes, free_port, wait_until
from tests.support.binaries import require_binary

pytestmark = pytest.mark.slow

QUERY_MARKER = "querymarker7731"


def _send(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("X-Request-ID") or ""
    finally:
        connection.close()


def _request_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_haproxy_writes_one_json_line_per_request(procs: Processes, tmp_path: Path) -> None:
    haproxy = require_binary("haproxy")
    app = procs.serve("a", workers=1)
    lb_port = free_port()
    env = {
        "POPCHECK_LB_BIND": f"{HOST}:{lb_port}",
        "POPCHECK_A": f"{HOST}:{app.port}",
        # Both of the config's servers point at the one instance.
        "POPCHECK_B": f"{HOST}:{app.port}",
        "POPCHECK_LB_STATS": str(tmp_path / "haproxy.sock"),
    }
    procs.spawn([haproxy, "-db", "-f", str(REPO / "deploy" / "haproxy.cfg")], "haproxy", env=env)
    body = json.dumps(ASSESS_BODY).encode()

    def assessed() -> bool:
        try:
            return _send(lb_port, "POST", "/assess", body)[0] == 200
        except OSError:
            return False

    wait_until(assessed, 15, "an assessment through HAProxy")
    sent = [
        _send(lb_port, "POST", f"/assess?explain=true&note={QUERY_MARKER}", body),
        _send(lb_port, "GET", "/assess"),
        _send(lb_port, "GET", "/no/such/path"),
    ]
    assert [status for status, _ in sent] == [200, 405, 404]

    log = tmp_path / "haproxy.log"
    wait_until(lambda: len(_request_lines(log)) >= 4, 10, "HAProxy's request lines")
    time.sleep(0.2)  # nothing else is in flight; let the last line land
    lines = _request_lines(log)
    assert QUERY_MARKER not in log.read_text()
    for line in lines:
        assert line["logger"] == "haproxy"
        assert line["server"] in {"a", "b"}
        assert isinstance(line["status"], int)
        assert isinstance(line["tt_ms"], int)
        assert "?" not in line["path"]
    last = lines[-3:]
    assert [(line["method"], line["path"], line["status"]) for line in last] == [
        ("POST", "/assess", 200),
        ("GET", "/assess", 405),
        ("GET", "/no/such/path", 404),
    ]
    assert [line["request_id"] for line in last] == [request_id for _, request_id in sent]
    app_lines = "\n".join(app.output_lines())
    assert all(line["request_id"] in app_lines for line in last)
