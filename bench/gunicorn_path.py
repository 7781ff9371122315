"""gunicorn's request path, stage by stage, for the service and the bare app, in one process.

``bench/http.py`` shows that a service request costs a worker about 135 µs more CPU than a
bare app's, while ``bench/inprocess.py`` (Flask's test client) accounts for about 85 of them.
This runs the code a worker runs for one request (sync and gevent workers share it), minus
the kernel and gevent's scheduling: gunicorn's parser on a socket stand-in, the WSGI
environ, the app, the response write and the access log, under ``deploy/gunicorn.conf.py``
(its settings, its logger class) and with multiprocess metrics, as in a worker. Each stage's
median per request shows which part of the gap the app itself makes and which the rest of
the path.

It runs in a child process: ``PROMETHEUS_MULTIPROC_DIR`` must be set before
prometheus-client is first imported.
Figures are printed, never asserted. Run alone: ``python -m bench.gunicorn_path``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bench._payloads import ROOT, payload_mix

ROUNDS = 30
STAGES = ("parse", "environ", "app", "write", "access log")
_CHILD_FLAG = "--child"


class _Socket:
    """Just enough of a connected socket for gunicorn's parser and response writer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0
        self.sent = 0

    def recv(self, size: int) -> bytes:
        chunk = self.data[self.position : self.position + size]
        self.position += len(chunk)
        return chunk

    def sendall(self, data: bytes) -> None:
        self.sent += len(data)

    send = sendall

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8080)


def _child() -> None:
    """Measure both apps along gunicorn's path and print one line per app."""
    from gunicorn import http
    from gunicorn.app.wsgiapp import WSGIApplication
    from gunicorn.http import wsgi

    sys.argv = ["gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "bench:unused"]
    config = WSGIApplication().cfg
    logger = config.logger_class(config)
    with open(os.devnull, "w") as devnull:
        for handler in logger.access_log.handlers + logger.error_log.handlers:
            handler.setStream(devnull)
        _measure(config, logger, http.get_parser, wsgi.create)


def _measure(config: Any, logger: Any, get_parser: Callable[..., Any], create: Any) -> None:
    from bench._bare_app import create_app as create_bare
    from bench.inprocess import mean_answer_bytes
    from popcheck.app import create_app
    from popcheck.observability import metrics

    payloads = payload_mix()
    apps = {"service": create_app(), "bare": create_bare(mean_answer_bytes(payloads))}
    metrics.init_process_metrics()
    requests = [
        b"POST /assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        for body in payloads
    ]
    peer = ("127.0.0.1", 40000)
    clock = time.perf_counter_ns

    def serve(app: Any, raw: bytes) -> tuple[tuple[int, ...], str]:
        sock = _Socket(raw)
        started = clock()
        request = next(get_parser(config, sock, peer))
        parsed = clock()
        began = datetime.now()
        response, environ = create(request, sock, peer, sock.getsockname(), config)
        response.force_close()  # popcheck's workers close every connection (keepalive 0)
        created = clock()
        body = app(environ, response.start_response)
        answered = clock()
        for chunk in body:
            response.write(chunk)
        response.close()
        written = clock()
        logger.access(response, request, environ, datetime.now() - began)
        if hasattr(body, "close"):
            body.close()
        logged = clock()
        timings = (parsed - started, created - parsed, answered - created,
                   written - answered, logged - written)  # fmt: skip
        return timings, str(response.status)

    samples: dict[str, list[tuple[int, ...]]] = {name: [] for name in apps}
    for name, app in apps.items():  # warm up, and make sure both answer (a refusal is fast)
        for raw in requests:
            _, status = serve(app, raw)
            if not status.startswith("200"):
                raise RuntimeError(f"{name} answered {status} along gunicorn's path")
    for _ in range(ROUNDS):
        for raw in requests:
            for name, app in apps.items():  # interleaved, request by request
                samples[name].append(serve(app, raw)[0])
    for name, rows in samples.items():
        medians = [statistics.median(row[i] for row in rows) / 1000 for i in range(len(STAGES))]
        total = statistics.median(sum(row) for row in rows) / 1000
        print(f"{name}\t" + "\t".join(f"{value:.1f}" for value in [*medians, total]))


def _table(lines: Iterable[str]) -> dict[str, list[float]]:
    rows = {}
    for line in lines:
        name, *values = line.split("\t")
        rows[name] = [float(value) for value in values]
    return rows


def main() -> None:
    """Run the measurement in a child process and print the stage table."""
    with tempfile.TemporaryDirectory(prefix="popcheck-gpath-") as directory:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POPCHECK_", "GUNICORN_"))}
        env.update(
            PROMETHEUS_MULTIPROC_DIR=directory,
            POPCHECK_DRAIN_FILE=os.path.join(directory, "draining"),
        )
        result = subprocess.run(
            [sys.executable, "-m", "bench.gunicorn_path", _CHILD_FLAG],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    if result.returncode != 0:
        raise RuntimeError(f"gunicorn path benchmark failed:\n{result.stderr}")
    rows = _table(line for line in result.stdout.splitlines() if "\t" in line)
    print(
        f"gunicorn's worker path in one process (socket stand-in, no kernel), "
        f"{ROUNDS} rounds of the payload mix, median µs per request:"
    )
    print(f"  {'':<10}" + "".join(f"{stage:>12}" for stage in (*STAGES, "total")))
    for name, values in rows.items():
        print(f"  {name:<10}" + "".join(f"{value:12.1f}" for value in values))
    service, bare = rows["service"], rows["bare"]
    app = STAGES.index("app")
    print(
        f"  the service adds {service[-1] - bare[-1]:.1f} µs: {service[app] - bare[app]:.1f} in "
        f"the app, {service[-1] - bare[-1] - (service[app] - bare[app]):.1f} in the rest"
    )


if __name__ == "__main__":
    if _CHILD_FLAG in sys.argv:
        _child()
    else:
        main()
