"""Slow clients against ``popcheck serve`` with its default settings (what the container and
the Kubernetes Deployment run, no proxy in front): 256 connections that send half a request
line, or a head and then a body one byte a second, and hold on. Meanwhile ``POST /assess``
answers within a second and ``/readyz`` within the readiness probe's timeout; and a slow
client is cut off after ``REQUEST_TIMEOUT`` with a log line that repeats nothing it sent."""

from __future__ import annotations

import http.client
import json
import selectors
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml

from tests.deploy.harness import (
    ASSESS_BODY,
    HOST,
    REPO,
    Processes,
    request,
    wait_until,
)
from tests.hardening.processes import worker_pids

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 256
HOLD = 5.0  # seconds the attack lasts; well under the default REQUEST_TIMEOUT (10 s)
PROBE_EVERY = 0.25
ASSESS_WITHIN = 1.0
# Markers in what the slow clients send: none may reach a log line.
SECRET_PATH = "/assess?symptom=numb-saddle-area"
SECRET_HEADER = "X-Patient-Note: bladder-trouble-since-monday"


def _readiness_timeout() -> float:
    """``timeoutSeconds`` of the Deployment's readiness probe: what the kubelet waits."""
    documents = yaml.safe_load_all((REPO / "deploy/kubernetes/deployment.yaml").read_text())
    deployment = next(d for d in documents if d and d.get("kind") == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return float(container["readinessProbe"]["timeoutSeconds"])


def _heads(kind: str) -> bytes:
    if kind == "half-line":
        return f"POST {SECRET_PATH} HTT".encode()
    # A whole head announcing a 300-byte body, then its first byte.
    return (
        f"POST {SECRET_PATH} HTTP/1.1\r\nHost: popcheck\r\n{SECRET_HEADER}\r\n"
        "Content-Type: application/json\r\nContent-Length: 300\r\n\r\n{"
    ).encode()


@contextmanager
def _slow_clients(port: int, kind: str, count: int) -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.sendall(_heads(kind))
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def _trickle(sockets: list[socket.socket]) -> None:
    """One more body byte on every slow socket still open."""
    for sock in sockets:
        try:
            sock.send(b" ")
        except OSError:
            pass


def _timed(port: int, method: str, path: str, body: Any, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status = request(port, method, path, body, timeout=timeout).status
    except OSError:
        status = 0  # no answer within the timeout
    return status, time.monotonic() - started


@pytest.mark.parametrize("kind", ["half-line", "trickle"])
def test_normal_requests_and_readiness_answer_while_256_slow_clients_hold_on(
    procs: Processes, kind: str
) -> None:
    readyz_within = _readiness_timeout()
    instance = procs.serve(workers=2)
    wait_until(lambda: len(worker_pids(instance)) == 2, 30, "both gunicorn workers")

    assess: list[tuple[int, float]] = []
    readyz: list[tuple[int, float]] = []
    with _slow_clients(instance.port, kind, SLOW_CLIENTS) as sockets:
        time.sleep(0.5)  # the workers have accepted them
        started = time.monotonic()
        next_byte = started + 1.0
        while time.monotonic() - started < HOLD and len(assess) < 100:
            assess.append(_timed(instance.port, "POST", "/assess", ASSESS_BODY, 3.0))
            readyz.append(_timed(instance.port, "GET", "/readyz", None, readyz_within + 1))
            if kind == "trickle" and time.monotonic() >= next_byte:
                _trickle(sockets)
                next_byte += 1.0
            time.sleep(PROBE_EVERY)
        # The slow clients were still being held, not cut off, while we measured.
        held = _still_open(sockets)

    slow_assess = [
        (status, took) for status, took in assess if status != 200 or took > ASSESS_WITHIN
    ]
    slow_readyz = [(s, took) for s, took in readyz if s != 200 or took > readyz_within]
    assert not slow_assess, f"/assess beyond {ASSESS_WITHIN} s: {slow_assess} of {len(assess)}"
    assert not slow_readyz, f"/readyz beyond {readyz_within} s: {slow_readyz} of {len(readyz)}"
    assert len(assess) >= 5
    assert held == SLOW_CLIENTS
    print(
        f"{kind}: /assess slowest {max(t for _, t in assess):.3f} s, "
        f"/readyz slowest {max(t for _, t in readyz):.3f} s over {len(assess)} probes each"
    )


def _still_open(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server has not closed (nothing to read on them)."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    closed = len(selector.select(timeout=0))
    selector.close()
    return len(sockets) - closed


@pytest.mark.parametrize("kind", ["half-line", "trickle"])
def test_a_slow_client_is_cut_off_after_the_request_timeout_and_logged_without_content(
    procs: Processes, kind: str
) -> None:
    instance = procs.serve(workers=2, extra_env={"REQUEST_TIMEOUT": "1.5"})
    with _slow_clients(instance.port, kind, 4) as sockets:
        started = time.monotonic()
        answers: list[bytes] = []
        ends: list[float] = []
        for sock in sockets:
            sock.settimeout(max(0.1, started + 6 - time.monotonic()))
            data = b""
            try:
                while chunk := sock.recv(4096):
                    data += chunk
            except TimeoutError:
                pytest.fail(f"still open after 6 s: {data!r}")
            answers.append(data)
            ends.append(time.monotonic() - started)

    # Cut off after the timeout (1.5 s), not before, and well before 6 s.
    assert min(ends) >= 1.3 and max(ends) <= 5.0, ends
    if kind == "half-line":
        assert answers == [b""] * 4  # dropped before a request existed
    else:
        # The app found the body shorter than announced: a 400 problem, and the connection ends.
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]

    wait_until(
        lambda: instance.output().count('"slow client cut off"') >= 4, 5, "four cut-off lines"
    )
    lines = [json.loads(line) for line in instance.output_lines() if "slow client cut off" in line]
    assert len(lines) == 4
    phase = "head" if kind == "half-line" else "body"
    for line in lines:
        assert line["level"] == "WARNING"
        assert line["phase"] == phase
        assert line["remote"] == HOST
        assert 1.4 <= line["waited_s"] <= 5.0
        assert line["bytes_received"] == len(_heads(kind))
    output = instance.output()
    for secret in ("numb-saddle-area", "symptom", "bladder-trouble", "X-Patient-Note"):
        assert secret not in output
    # And the service still answers.
    assert request(instance.port, "POST", "/assess", ASSESS_BODY).status == 200


def test_a_kept_alive_connection_may_idle_past_the_request_timeout(procs: Processes) -> None:
    # The deadline runs from a request's first byte; the idle wait before it is keepalive's.
    instance = procs.serve(workers=2, extra_env={"REQUEST_TIMEOUT": "1", "KEEPALIVE": "5"})
    conn = http.client.HTTPConnection(HOST, instance.port, timeout=5)
    body = json.dumps(ASSESS_BODY)
    local_ends = []
    try:
        for pause in (1.6, 0.0):
            conn.request("POST", "/assess", body=body, headers={"Content-Type": "application/json"})
            assert conn.sock is not None
            local_ends.append(conn.sock.getsockname())
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection") != "close"
            time.sleep(pause)
    finally:
        conn.close()
    assert local_ends[0] == local_ends[1], "the second request needed a new connection"
    assert "slow client cut off" not in instance.output()
