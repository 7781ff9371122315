"""Hostile input over a real socket to real gunicorn workers (``popcheck serve``, the
``make run`` configuration), and schemathesis through the ``st`` command line against it.

What only a real server shows: bodies gunicorn frames itself (``Transfer-Encoding: chunked``,
10 MB sent while the answer is already on its way), requests gunicorn refuses before the app
sees them, and whether a worker that has eaten the whole corpus is as fast as before (and is
the same process: nothing crashed or timed out).
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.deploy.harness import HOST, Serve
from tests.hardening.corpus import (
    DEFAULT_LIMIT,
    PROBLEM_JSON,
    REPO,
    TOO_LARGE,
    Hostile,
    corpus,
)
from tests.hardening.processes import rss_kib, worker_pids
from tests.hardening.test_corpus import check_answer

pytestmark = pytest.mark.slow

CASES = corpus()
NORMAL_BODY = b'{"age":45,"duration_days":21,"pain":{"level":4},"muscles":{"tight":["hips"]}}'
TEN_MB = 10 * 1024 * 1024


def send(port: int, case: Hostile) -> tuple[int, str, dict[str, str], bytes]:
    """``case`` over a new connection, framed by hand so that any method, media type and
    body goes out exactly as written (popcheck's workers close after each answer)."""
    lines = [f"{case.method} {case.path} HTTP/1.1", "Host: popcheck", "Connection: close"]
    if case.content_type is not None:
        lines.append(f"Content-Type: {case.content_type}")
    lines += [f"{name}: {value}" for name, value in case.headers.items()]
    lines.append(f"Content-Length: {len(case.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    pieces = [case.body[start : start + 65536] for start in range(0, len(case.body), 65536)]
    return parse_reply(raw_exchange(port, head, pieces))


def parse_reply(reply: bytes) -> tuple[int, str, dict[str, str], bytes]:
    """Status, media type, headers and body of one HTTP/1.1 answer with a Content-Length."""
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    length = int(headers.get("Content-Length", len(body)))
    assert len(body) == length, f"short answer: {len(body)} of {length} bytes"
    mimetype = headers.get("Content-Type", "").split(";")[0].strip()
    return int(status_line.split(" ", 2)[1]), mimetype, headers, body


def raw_exchange(port: int, head: bytes, body: Iterable[bytes] = ()) -> bytes:
    """Send ``head``, then ``body`` from a thread while reading the answer: the server may
    answer (413) and close before the client has finished sending, as a real client would
    experience. Returns everything the server sent."""
    sock = socket.create_connection((HOST, port), timeout=30)
    try:

        def feed() -> None:
            # The head goes out from the thread too: for an oversized head (414, 431) the
            # server may answer and close before the client has finished sending it.
            try:
                sock.sendall(head)
                for piece in body:
                    sock.sendall(piece)
            except OSError:
                pass  # the server answered and closed: expected for refused requests

        sender = threading.Thread(target=feed, daemon=True)
        sender.start()
        received = bytearray()
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        sender.join(timeout=30)
        return bytes(received)
    finally:
        sock.close()


def send_then_hang_up(port: int, data: bytes) -> bytes:
    """Send ``data``, close the sending side (a client that stops early), and return
    everything the server answers."""
    sock = socket.create_connection((HOST, port), timeout=30)
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply
    finally:
        sock.close()


def chunks(payload: bytes, size: int = 65536) -> Iterator[bytes]:
    """``payload`` as HTTP/1.1 chunked transfer coding."""
    for start in range(0, len(payload), size):
        piece = payload[start : start + size]
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def normal_latencies(port: int, count: int) -> list[float]:
    """Seconds per ordinary valid request, sequential, each on a new connection."""
    case = Hostile("normal", NORMAL_BODY, 200)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        status, *_ = send(port, case)
        samples.append(time.perf_counter() - started)
        assert status == 200
    return samples


def test_corpus_over_gunicorn(gunicorn_server: Serve) -> None:
    failures = []
    for case in CASES:
        try:
            check_answer(case, *send(gunicorn_server.port, case), server="gunicorn")
        except AssertionError as exc:
            failures.append(f"{case.id}: {str(exc)[:300]}")
    assert failures == []

    # Nothing the corpus sent became an error log, a bare traceback or a copy of a body
    # (health data): every line is JSON, and words only the bodies contain never appear.
    time.sleep(0.2)  # let the workers' last lines reach the file
    lines = gunicorn_server.output_lines()
    records = [json.loads(line) for line in lines]
    assert len(records) >= len(CASES)  # one access line per request at least
    assert [r for r in records if r.get("level") in ("ERROR", "CRITICAL")] == []
    text = "\n".join(lines)
    for word in ("sudden", "k4999", "hamstrings", "extra"):
        assert word not in text


@pytest.mark.parametrize("size", [DEFAULT_LIMIT + 1, TEN_MB])
def test_big_body_with_content_length(gunicorn_server: Serve, size: int) -> None:
    body = b'{"age":40}' + b" " * (size - 10)
    head = (
        b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    reply = raw_exchange(
        gunicorn_server.port, head, [body[i : i + 65536] for i in range(0, size, 65536)]
    )
    assert status_of(reply) == 413, reply[:300]
    assert reply.endswith(TOO_LARGE.encode() + b'"}'), reply[-300:]


@pytest.mark.parametrize("size", [DEFAULT_LIMIT + 1, TEN_MB])
def test_big_body_chunked(gunicorn_server: Serve, size: int) -> None:
    # Valid JSON padded with spaces: cut at the limit it would still parse, so only a real
    # size check refuses it.
    body = b'{"age":40}' + b" " * (size - 10)
    head = (
        b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    reply = raw_exchange(gunicorn_server.port, head, chunks(body))
    assert status_of(reply) == 413, reply[:300]
    assert b"application/problem+json" in reply.split(b"\r\n\r\n")[0]


def test_small_chunked_body_is_assessed(gunicorn_server: Serve) -> None:
    head = (
        b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    reply = raw_exchange(gunicorn_server.port, head, chunks(NORMAL_BODY, size=7))
    assert status_of(reply) == 200, reply[:300]


# Refused by gunicorn's parser before the app runs, never a 5xx, and the worker survives.
# There is no request to hand the app, and gunicorn has no setting for its error page, so the
# answer is gunicorn's own small HTML page (docs/operations.md, Errors): deploy/gunicorn.conf.py
# patches none of gunicorn's internals.
PROTOCOL_ODDITIES = {
    "lowercase-method": (400, b"post /assess HTTP/1.1\r\nHost: p\r\nContent-Length: 0\r\n\r\n"),
    "length-and-chunked": (
        400,
        b"POST /assess HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n"
        b'Content-Length: 11\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{"age": 40}\r\n0\r\n\r\n',
    ),
    "two-content-types": (
        400,
        b"POST /assess HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
    ),
    "negative-length": (
        400,
        b"POST /assess HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n"
        b"Content-Length: -1\r\n\r\n",
    ),
    "header-too-long": (
        431,
        b"POST /assess HTTP/1.1\r\nHost: p\r\nX-Pad: " + b"a" * 10_000 + b"\r\n\r\n",
    ),
    "too-many-headers": (
        431,
        b"POST /assess HTTP/1.1\r\nHost: p\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(150))
        + b"Content-Length: 0\r\n\r\n",
    ),
    "uri-too-long": (
        414,
        b"POST /assess?" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: p\r\nContent-Length: 0\r\n\r\n",
    ),
    "two-content-lengths": (
        400,
        b"POST /assess HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n"
        b'Content-Length: 10\r\nContent-Length: 11\r\n\r\n{"age":40}',
    ),
    "not-http": (400, b"GARBAGE\r\n\r\n"),
}

# Legal HTTP/1.1 framings a careful client may use: each must reach the app and be assessed.
LEGAL_FRAMINGS = {
    "chunk-extension": b'Transfer-Encoding: chunked\r\n\r\na;ext=1\r\n{"age":40}\r\n0\r\n\r\n',
    "trailer-field": b'Transfer-Encoding: chunked\r\n\r\na\r\n{"age":40}\r\n0\r\nX-T: 1\r\n\r\n',
    "one-byte-chunks": b"Transfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"1\r\n%c\r\n" % c for c in b'{"age":40}')
    + b"0\r\n\r\n",
    "expect-continue": b'Expect: 100-continue\r\nContent-Length: 10\r\n\r\n{"age":40}',
}


@pytest.mark.parametrize("name", LEGAL_FRAMINGS)
def test_legal_framings_are_assessed(gunicorn_server: Serve, name: str) -> None:
    head = b"POST /assess HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n"
    reply = raw_exchange(gunicorn_server.port, head + LEGAL_FRAMINGS[name])
    # "Expect: 100-continue" gets an interim 100 first; the final answer follows it.
    final = reply.split(b"HTTP/1.1 100 Continue\r\n\r\n")[-1]
    assert status_of(final) == 200, reply[:300]


@pytest.mark.parametrize("name", PROTOCOL_ODDITIES)
def test_protocol_oddities_are_refused_by_gunicorn(gunicorn_server: Serve, name: str) -> None:
    status, raw = PROTOCOL_ODDITIES[name]
    reply = raw_exchange(gunicorn_server.port, raw)
    assert status_of(reply) == status, reply[:300]
    head, _, body = reply.partition(b"\r\n\r\n")
    headers = {
        key.strip().lower(): value.strip()
        for key, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
    }
    # gunicorn's page (util.write_error): text/html, the connection closed, nothing else.
    assert set(headers) == {b"connection", b"content-type", b"content-length"}
    assert headers[b"content-type"] == b"text/html"
    assert headers[b"connection"] == b"close"
    assert int(headers[b"content-length"]) == len(body)
    assert b"<title>" + reply.split(b"\r\n", 1)[0].split(b" ", 2)[2] + b"</title>" in body
    # It names what it refused (a request line like "GARBAGE" is repeated, HTML-escaped),
    # but none of these requests' header values, long URIs or bodies.
    for echoed in (b"aaaa", b"X-H1", b"text/plain", b"age"):
        assert echoed not in body


CHUNKED_HEAD = (
    b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
UNREADABLE = {
    "type": "about:blank",
    "title": "Bad Request",
    "status": 400,
    "detail": "The body could not be read: its chunked framing is broken or it ended early.",
}


@pytest.mark.parametrize(
    "chunked",
    [
        b"zz\r\n{}\r\n0\r\n\r\n",  # chunk size is not hex
        b"2\r\n{}XX0\r\n\r\n",  # chunk not followed by CRLF
        b"-2\r\n{}\r\n0\r\n\r\n",  # negative chunk size
    ],
    ids=["size-not-hex", "no-terminator", "negative-size"],
)
def test_broken_chunked_framing_is_400(gunicorn_server: Serve, chunked: bytes) -> None:
    # gunicorn frames the chunks while the app reads the body, so its parse error surfaces
    # inside the app: a 400 problem, not a 500.
    status, mimetype, _, body = parse_reply(
        raw_exchange(gunicorn_server.port, CHUNKED_HEAD, [chunked])
    )
    assert (status, mimetype) == (400, PROBLEM_JSON), body[:300]
    assert json.loads(body) == UNREADABLE


@pytest.mark.parametrize("declared", [100, 65_536])
def test_body_shorter_than_its_content_length_is_400(gunicorn_server: Serve, declared: int) -> None:
    # The client stops after a complete-looking JSON object and closes its side: the body
    # is shorter than announced, so it is not what the caller meant to send.
    reply = send_then_hang_up(
        gunicorn_server.port,
        b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json\r\n"
        b'Content-Length: %d\r\n\r\n{"age":40}' % declared,
    )
    status, _, _, body = parse_reply(reply)
    assert status == 400, body[:300]
    assert json.loads(body) == UNREADABLE


def test_chunked_body_cut_short_is_400(gunicorn_server: Serve) -> None:
    # The client gives up mid-chunk.
    reply = send_then_hang_up(gunicorn_server.port, CHUNKED_HEAD + b'ff\r\n{"age":')
    status, _, _, body = parse_reply(reply)
    assert status == 400, body[:300]
    assert json.loads(body) == UNREADABLE


def test_the_workers_are_as_fast_after_the_corpus(gunicorn_server: Serve) -> None:
    port = gunicorn_server.port
    workers_before = worker_pids(gunicorn_server)
    assert len(workers_before) == 2
    normal_latencies(port, 20)  # warm both workers
    before = statistics.median(normal_latencies(port, 40))
    rss_before = {pid: rss_kib(pid) for pid in workers_before}

    for case in CASES:
        assert send(port, case)[0] < 500, case.id
    for _ in range(2):  # one per worker, whichever takes the connection
        head = (
            b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        assert status_of(raw_exchange(port, head, chunks(b" " * TEN_MB))) == 413
    for status, raw in PROTOCOL_ODDITIES.values():
        assert status_of(raw_exchange(port, raw)) == status
    assert status_of(raw_exchange(port, CHUNKED_HEAD, [b"zz\r\n{}\r\n0\r\n\r\n"])) == 400

    after = statistics.median(normal_latencies(port, 40))
    if after >= 3 * before + 0.002:
        # A worker made slower stays slower; a neighbour stealing the CPU for a moment does
        # not, so one fresh batch tells the two apart.
        after = min(after, statistics.median(normal_latencies(port, 40)))
    # Same processes: no worker crashed, was killed for a timeout or recycled.
    assert worker_pids(gunicorn_server) == workers_before
    # Generous so it cannot flake on a shared 2-core machine, tight enough to catch a worker
    # left parsing, swapping or holding a 10 MB buffer (that costs tens of milliseconds).
    assert after < 3 * before + 0.002, f"median {before * 1e3:.2f} ms -> {after * 1e3:.2f} ms"
    # No body was buffered whole: 10 MB bodies twice would show as ~20 MB more per worker.
    grown = {pid: rss_kib(pid) - rss_before[pid] for pid in workers_before}
    assert all(kib < 8 * 1024 for kib in grown.values()), grown


SCHEMATHESIS_SEED = 20261125
SCHEMATHESIS_EXAMPLES = 25


def test_schemathesis_cli_against_gunicorn(gunicorn_server: Serve, tmp_path: Path) -> None:
    # The command an operator would run; in tmp_path so its .schemathesis/ reports stay out
    # of the checkout.
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(REPO / "openapi.yaml"),
        "--url",
        f"http://{HOST}:{gunicorn_server.port}",
        "--checks",
        "all",
        # A schema-valid QuestionnaireResponse to another form is 422 by design, and a CDS
        # call without its prefetch is 412 (test_fuzz_inprocess says why); the CLI cannot
        # waive one check for one media type, so it waives it here, and the in-process run
        # (every make test, the same spec) keeps it for every JSON body.
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(SCHEMATHESIS_EXAMPLES),
        "--seed",
        str(SCHEMATHESIS_SEED),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "10",
    ]
    # GET /openapi.yaml's body is YAML text, not data (schemathesis_hooks.py says why).
    hooks = Path(__file__).with_name("schemathesis_hooks.py")
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": str(hooks)}
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # Exit 0 also when nothing was tested (an empty selection): make sure everything was.
    tested = re.search(r"Tested: (\d+)", output)
    # Every operation of openapi.yaml (the /docs page's own files are not operations).
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    operations = sum(len(item) for item in spec["paths"].values())
    assert tested is not None and int(tested.group(1)) >= operations, output[-2000:]
