"""SIGTERM drains: /readyz turns 503 while the instance keeps serving, then an in-flight
request still completes with 200 after gunicorn itself got SIGTERM."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.deploy.harness import ASSESS_BODY, HOST, Processes, status_or_none, wait_until

pytestmark = pytest.mark.slow

DRAIN_SECONDS = 2.0


def _read_response(sock: socket.socket, timeout: float) -> tuple[int, bytes]:
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            headers = head.decode("latin-1").split("\r\n")
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in headers
                    if h.lower().startswith("content-length:")
                ),
                None,
            )
            if length is not None and len(body) >= length:
                break
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def test_sigterm_drains_then_finishes_in_flight_requests(procs: Processes) -> None:
    # Two workers: the slow request below occupies one, the other answers the probes.
    instance = procs.serve(workers=2, drain_seconds=DRAIN_SECONDS)
    body = json.dumps(ASSESS_BODY).encode()
    head = (
        f"POST /assess HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: drain-in-flight\r\n\r\n"
    ).encode()

    # A slow client: headers and half the body now, the rest after gunicorn got SIGTERM.
    with socket.create_connection((HOST, instance.port), timeout=5) as slow:
        slow.sendall(head + body[: len(body) // 2])
        time.sleep(0.3)  # a worker has accepted it and is reading the body

        instance.terminate()
        started = time.monotonic()
        wait_until(lambda: status_or_none(instance.port, "/readyz") == 503, 1.5, "/readyz 503")
        # Still serving during the drain: readiness fails, liveness passes.
        while time.monotonic() - started < DRAIN_SECONDS - 0.5:
            assert status_or_none(instance.port, "/readyz") == 503
            assert status_or_none(instance.port, "/healthz") == 200
            time.sleep(0.1)

        wait_until(
            lambda: "Handling signal: term" in instance.output(),
            DRAIN_SECONDS + 5,
            "gunicorn to receive SIGTERM after the drain",
        )
        assert time.monotonic() - started >= DRAIN_SECONDS - 0.1
        assert instance.process is not None and instance.process.poll() is None

        slow.sendall(body[len(body) // 2 :])
        status, payload = _read_response(slow, timeout=10)

    assert status == 200, payload[:500]
    assert "urgency" in json.loads(payload)
    assert instance.wait(timeout=15) == 0


def test_a_second_signal_cuts_the_drain_short(procs: Processes) -> None:
    instance = procs.serve(workers=1, drain_seconds=60)
    instance.terminate()
    wait_until(lambda: status_or_none(instance.port, "/readyz") == 503, 2, "/readyz 503")
    started = time.monotonic()
    instance.terminate()
    assert instance.wait(timeout=15) == 0
    assert time.monotonic() - started < 15
