"""API keys never reach a log line, under real gunicorn at DEBUG level: not at start-up (where
settings are read), not on an accepted request, not on a rejected one, and not when the
presented key is almost right."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tests.deploy.harness import Processes, request

pytestmark = pytest.mark.slow


def test_api_keys_are_never_logged(tmp_path: Path) -> None:
    keys = [f"k1-{uuid.uuid4().hex}", f"k2-{uuid.uuid4().hex}"]
    near_miss = keys[0][:-1] + ("0" if keys[0][-1] != "0" else "1")
    processes = Processes(tmp_path)
    try:
        server = processes.serve(
            "keyed",
            workers=1,
            drain_seconds=0,
            extra_env={"POPCHECK_API_KEYS": ",".join(keys), "POPCHECK_LOG_LEVEL": "DEBUG"},
        )
        port = server.port
        body = {"age": 40}
        for key in keys:
            auth = {"Authorization": f"Bearer {key}"}
            assert request(port, "POST", "/assess", body, headers=auth).status == 200
            assert request(port, "GET", "/rules", headers=auth).status == 200
        for header in (f"Bearer {near_miss}", f"Basic {keys[0]}", keys[1], f"Bearer  {keys[1]}x"):
            reply = request(port, "POST", "/assess", body, headers={"Authorization": header})
            assert reply.status == 401, header
            assert keys[0] not in reply.body.decode() and keys[1] not in reply.body.decode()
        assert request(port, "POST", "/assess", body).status == 401
        time.sleep(0.2)  # let the last lines reach the file
        output = server.output()
        access = [
            record
            for record in (json.loads(line) for line in output.splitlines() if line)
            if record.get("logger") == "gunicorn.access"
        ]
        # The requests were logged...
        assert sum(record["status"] == 401 for record in access) >= 5
        for secret in (*keys, near_miss, keys[0][3:], keys[1][3:]):
            assert secret not in output  # ...without any key in them
    finally:
        processes.cleanup()
