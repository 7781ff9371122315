"""Rolling restart of two instances behind HAProxy (deploy/haproxy.cfg, run as shipped) under
continuous load: SIGTERM one, restart it, wait until the balancer uses it again, then the other.
Not one request may fail."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.deploy.harness import (
    ASSESS_BODY,
    HOST,
    REPO,
    Processes,
    Serve,
    free_port,
    wait_until,
)
from tests.support.binaries import require_binary

pytestmark = pytest.mark.slow

# Longer than HAProxy needs to see /readyz fail (inter 1s, fall 2) with a margin.
DRAIN_SECONDS = 4.5
CLIENTS = 4
MAX_LOAD_SECONDS = 90.0


class Load:
    """A few threads posting assessments through the balancer until told to stop, each on a
    keep-alive connection (reopened when the balancer closes it), recording every outcome."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]
        self._body = json.dumps(ASSESS_BODY).encode()

    def _record(self, outcome: str, detail: str | None = None) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            if detail is not None and len(self.failures) < 20:
                self.failures.append(detail)

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        conn: http.client.HTTPConnection | None = None
        while not self.stop.is_set() and time.monotonic() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
            try:
                conn.request(
                    "POST", "/assess", body=self._body, headers={"Content-Type": "application/json"}
                )
                response = conn.getresponse()
                payload = response.read()
                if response.status == 200:
                    self._record("ok")
                else:
                    self._record("bad status", f"{response.status}: {payload[:200]!r}")
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._record("error", repr(exc))
                conn.close()
                conn = None
            time.sleep(0.002)  # bounded load: the servers share two cores with this client
        if conn is not None:
            conn.close()

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def count(self, outcome: str = "ok") -> int:
        with self._lock:
            return self.outcomes[outcome]


def _server_status(stats_socket: Path) -> dict[str, str]:
    """Server name -> HAProxy status (UP, DOWN, ...) from the admin socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(stats_socket))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    result = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "popcheck" and row.get("svname") in {"a", "b"}:
            result[row["svname"]] = row["status"]
    return result


def _restart(instance: Serve, name: str, stats_socket: Path, load: Load) -> None:
    before = load.count()
    instance.terminate()
    wait_until(
        lambda: _server_status(stats_socket).get(name) == "DOWN",
        DRAIN_SECONDS,
        f"HAProxy to take {name} out while it drains",
    )
    assert instance.wait(timeout=30) == 0
    instance.start()
    wait_until(
        lambda: _server_status(stats_socket).get(name) == "UP", 15, f"HAProxy to use {name} again"
    )
    wait_until(lambda: load.count() > before + 50, 15, "traffic to keep flowing")


def test_rolling_restart_behind_haproxy_loses_no_request(procs: Processes, tmp_path: Path) -> None:
    haproxy = require_binary("haproxy")
    a = procs.serve("a", workers=2, drain_seconds=DRAIN_SECONDS)
    b = procs.serve("b", workers=2, drain_seconds=DRAIN_SECONDS)
    lb_port = free_port()
    stats_socket = tmp_path / "haproxy.sock"
    env = {
        "POPCHECK_LB_BIND": f"{HOST}:{lb_port}",
        "POPCHECK_A": f"{HOST}:{a.port}",
        "POPCHECK_B": f"{HOST}:{b.port}",
        "POPCHECK_LB_STATS": str(stats_socket),
    }
    config = REPO / "deploy" / "haproxy.cfg"
    lb = procs.spawn([haproxy, "-db", "-f", str(config)], "haproxy", env=env)
    wait_until(lambda: stats_socket.exists(), 10, "haproxy to start")
    wait_until(lambda: _server_status(stats_socket) == {"a": "UP", "b": "UP"}, 10, "both UP")

    with Load(lb_port) as load:
        wait_until(lambda: load.count() > 100, 15, "load to start")
        _restart(a, "a", stats_socket, load)
        _restart(b, "b", stats_socket, load)
    assert lb.poll() is None, (tmp_path / "haproxy.log").read_text()[-2000:]

    print(f"rolling restart through HAProxy: {dict(load.outcomes)}")  # shown with pytest -rP
    assert load.count("bad status") + load.count("error") == 0, load.failures
    assert load.count() > 300
