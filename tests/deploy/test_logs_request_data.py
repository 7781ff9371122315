"""Nothing of a request line, query string or header reaches a log line, including the lines
gunicorn itself writes when its parser refuses a request (``Invalid HTTP request line:
'...'``): popcheck.observability.jsonlog.RequestDataFilter on ``gunicorn.error``."""

from __future__ import annotations

import json
import socket
import uuid

import pytest

from tests.deploy.harness import HOST, Processes, request

pytestmark = pytest.mark.slow


def _raw(port: int, data: bytes) -> bytes:
    """Send ``data`` as it is on a new connection; whatever comes back before it closes."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # gunicorn answered and closed before reading all of a refused request
    return b"".join(chunks)


def test_no_log_line_holds_a_request_line_query_string_or_header(procs: Processes) -> None:
    instance = procs.serve(workers=1)
    port = instance.port
    marker = f"zzreq{uuid.uuid4().hex}"
    mark = marker.encode()

    refused = [
        # A request line of one word, and of four, with the marker in a query string.
        b"POST/assess?symptom=" + mark + b"\r\nHost: x\r\n\r\n",
        b"POST /assess?symptom=" + mark + b" HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        # A method gunicorn refuses, a version it refuses.
        b"p" + mark + b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz?" + mark + b" HTTP/9." + mark + b"\r\nHost: x\r\n\r\n",
        # A header name and a header value gunicorn refuses.
        b"GET /healthz?q=" + mark + b" HTTP/1.1\r\nHost: x\r\nX(" + mark + b"): 1\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00" + mark + b"\r\n\r\n",
        # A request line too long for gunicorn's limit.
        b"GET /healthz?" + mark * (8192 // len(mark) + 1) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for data in refused:
        answer = _raw(port, data)
        assert answer.startswith(b"HTTP/1.1 4") or not answer, answer[:200]
    # A chunk size that is not hexadecimal: found while the app reads the body (its 400).
    broken_body = (
        b"POST /assess?" + mark + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\n" + mark + b"\r\n{}\r\n0\r\n\r\n"
    )
    assert _raw(port, broken_body).startswith(b"HTTP/1.1 400")

    # Answered requests: the marker in a query string and in headers.
    assert request(port, "GET", f"/healthz?symptom={marker}").status == 200
    reply = request(
        port,
        "POST",
        f"/assess?explain={marker}",
        {"age": 40},
        headers={"User-Agent": marker, "X-Symptom": marker, "Referer": f"/{marker}"},
    )
    assert reply.status == 400
    assert request(port, "GET", f"/nothing-here?{marker}=1").status == 404

    instance.terminate()
    assert instance.wait() == 0
    lines = instance.output_lines()
    for line in lines:
        json.loads(line)
    leaked = [line for line in lines if marker in line]
    assert not leaked, "\n".join(leaked)
    refusals = [line for line in lines if "invalid request refused by gunicorn" in line]
    assert len(refusals) == len(refused), "\n".join(lines)
    assert any("Invalid HTTP request line" in line for line in refusals)
