"""Logs under real gunicorn: every line on stdout and stderr is one JSON object, access lines
carry the request id, route, status, duration and urgency, and nothing a person typed into a
symptom field ever reaches a log line."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.deploy.harness import ASSESS_BODY, Processes, request

pytestmark = pytest.mark.slow


def test_logs_are_json_lines_without_health_data(procs: Processes) -> None:
    instance = procs.serve(workers=2)
    port = instance.port
    marker = f"zzmarker{uuid.uuid4().hex}"

    ok = request(port, "POST", "/assess", ASSESS_BODY, headers={"X-Request-ID": "logs-ok"})
    assert ok.status == 200
    # gunicorn writes its name itself, without a version; no gunicorn setting drops it, and
    # deploy/gunicorn.conf.py patches none of gunicorn's internals.
    assert ok.headers.get("Server") == "gunicorn"
    urgency = ok.json()["urgency"]["level"]

    # The marker in symptom fields: as an enum value, a nested and a top-level field name,
    # inside malformed JSON, and inside a body over the size limit.
    rejected = [
        {**ASSESS_BODY, "onset": marker},
        {**ASSESS_BODY, "pain": {"level": 3, marker: True}},
        {**ASSESS_BODY, marker: 1},
        {**ASSESS_BODY, "muscles": {"tight": [marker]}},
    ]
    for body in rejected:
        assert request(port, "POST", "/assess", body).status == 422
    truncated = json.dumps({**ASSESS_BODY, "onset": marker}).encode()[:-3]
    assert request(port, "POST", "/assess", truncated).status == 400
    # Just over the 64 KiB limit: small enough to sit in the socket buffers whole, so the
    # client is never cut off mid-send when the server answers 413 without reading it.
    huge = json.dumps({**ASSESS_BODY, "onset": marker * 1800}).encode()
    assert 65536 < len(huge) < 100_000
    assert request(port, "POST", "/assess", huge).status == 413

    # Quotes, backslashes and odd bytes in headers and paths must not break a line.
    tricky = 'a"b\\c{"x":1}'
    echoed = request(port, "GET", "/healthz", headers={"X-Request-ID": tricky, "User-Agent": '"\\'})
    assert echoed.headers["X-Request-ID"] == tricky
    assert request(port, "GET", '/nope%22%5C"\\').status == 404
    long_id = request(port, "GET", "/healthz", headers={"X-Request-ID": "x" * 129})
    assert long_id.headers["X-Request-ID"] != "x" * 129

    instance.terminate()
    assert instance.wait() == 0

    lines = instance.output_lines()
    records: list[dict[str, Any]] = []
    for line in lines:
        record = json.loads(line)  # every line parses
        assert isinstance(record, dict), line
        assert marker not in line
        records.append(record)

    access = [r for r in records if r.get("logger") == "gunicorn.access"]
    assert len(access) >= len(rejected) + 6
    (line_ok,) = [r for r in access if r.get("request_id") == "logs-ok"]
    assert line_ok["route"] == "/assess"
    assert line_ok["status"] == 200
    assert line_ok["urgency"] == urgency
    assert isinstance(line_ok["duration_ms"], float) and line_ok["duration_ms"] >= 0
    assert any(r.get("request_id") == tricky for r in access)
    assert {r["route"] for r in access if r["status"] == 404} == {"<unmatched>"}
    # gunicorn's own error log is JSON too.
    assert any(r.get("logger") == "gunicorn.error" for r in records)
