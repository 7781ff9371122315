"""gunicorn settings for popcheck. Always passed explicitly (``-c deploy/gunicorn.conf.py``):
without ``-c`` gunicorn would load whatever ``./gunicorn.conf.py`` sits in the current directory.

``popcheck serve`` runs gunicorn with this file; it also sets PROMETHEUS_MULTIPROC_DIR and
POPCHECK_DRAIN_FILE before gunicorn starts. Command-line flags and ``GUNICORN_CMD_ARGS``
override anything here.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from types import TracebackType
from typing import Any

from popcheck.config import ConfigError, load_settings
from popcheck.observability import metrics
from popcheck.observability.jsonlog import gunicorn_logconfig
from popcheck.serversettings import ANNOUNCE_ENV, load_server_settings

# Only gunicorn's settings and hooks are used here, none of its internals is patched. Two of
# gunicorn's own behaviours therefore stay, because no setting changes them and a WSGI
# middleware cannot reach them (docs/operations.md: "Errors" and "Running it"):
# - every answer from the app carries "Server: gunicorn" (the name, no version): gunicorn
#   writes it ahead of the app's headers and has no setting to drop or replace it;
# - what gunicorn's parser refuses before the app is called (a request line or headers too
#   long, broken framing: 400, 414, 431; 417 and 501 for an Expect or Transfer-Encoding it
#   does not support) gets gunicorn's own small text/html error page, not the app's
#   problem+json; it may repeat, HTML-escaped, part of the refused request line or headers.
#   Anything the app itself answers is problem+json as documented.


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    # With preload_app a broken ruleset fails in the master, outside gunicorn's own error
    # handling; log it through the JSON handler instead of a bare traceback on stderr.
    logging.getLogger("gunicorn.error").critical(
        "popcheck could not start: %s", error, exc_info=(kind, error, traceback)
    )


sys.excepthook = _log_uncaught

# Every variable read here is checked by service/serversettings.py (popcheck serve checks them
# before gunicorn starts): a bad one stops gunicorn with one line naming it, not a traceback.
try:
    _server = load_server_settings()
    _log_level = load_settings().log_level
except ConfigError as _error:
    print(f"popcheck: invalid setting: {_error}", file=sys.stderr)
    sys.exit(2)

# HOST defaults to 127.0.0.1 (this machine only); the container and Kubernetes set 0.0.0.0.
bind = [_server.bind]
workers = _server.workers
# Only for WORKER_CLASS=gthread (with sync, THREADS > 1 makes gunicorn switch to gthread).
threads = _server.threads

# Worker class: gevent with a request deadline (service/worker.py), chosen by measuring
# (bench/slow_clients.py, docs/performance.md; 2 shared cores, Dec 2026). sync serves one
# connection per worker and gthread one per thread, and neither limits how long a request may
# take to arrive: 4 clients sending half a request line left sync's /readyz unanswered, and
# 256 left both classes' /assess and /readyz unanswered for as long as they held on. In
# Kubernetes the Service does not buffer, so that is a readiness outage. A gevent worker
# holds a connection in a greenlet: under the same 256, /assess answered within 0.01 s.
# Cost, interleaved wrk runs (median of 5-7 rounds, 3 runs): 0.79-0.89 of sync's req/s,
# +20-130 µs CPU per request; sync behind HAProxy instead: 0.82-0.93 of sync, +150-225 µs
# (HAProxy's CPU on the same cores); head to head, default / sync behind HAProxy 0.97-1.33,
# and HAProxy would be one more process in every pod. The service's share of the bare app's
# rate (the speed bar, the bare app under these same settings) was 0.61-0.70 with sync,
# 0.69-0.73 now.
# REQUEST_TIMEOUT (seconds, default 10, as HAProxy's "timeout http-request"): a request's
# head and body must arrive within it, or the client is cut off and logged (address, phase,
# seconds, byte count; never what it sent). WORKER_CLASS=sync or gthread remain for running
# behind a buffering proxy.
worker_class = _server.worker_class
# Connections one gevent worker holds at once (gunicorn's default): 2,000 for two workers,
# a few KiB each; past it, new ones wait in the listen backlog until slow ones are cut off.
worker_connections = _server.worker_connections

# Load the app (and compile the ruleset) once in the master: a broken ruleset stops gunicorn
# before any worker forks, workers start in milliseconds, and the compiled tables are shared
# copy-on-write. Per-worker metric values are therefore set in ``post_fork``, not at load.
preload_app = True

# A request takes about a millisecond; a worker silent for 30 s (its event loop blocked) is
# stuck, not busy.
timeout = 30
# In-flight requests get this long after SIGTERM. Kubernetes' terminationGracePeriodSeconds
# must cover preStop sleep + POPCHECK_DRAIN_SECONDS + this + a margin (tests/deploy checks it).
graceful_timeout = 20
# Off: every answer closes its connection, as the sync worker always did, so a stopping
# worker has no idle kept-alive connections to wait for. Set it (above the load balancer's
# idle timeout) to keep connections open with gevent or gthread.
keepalive = _server.keepalive

# The heartbeat file is touched on every request; on /dev/shm that is a memory write, while
# an overlay or network /tmp can stall workers into false timeouts.
worker_tmp_dir = "/dev/shm"
# The control socket lives under $HOME, which is read-only (or absent) in the container.
control_socket_disable = True

# Off. Recycling buys nothing here (no leak was measured: RSS stays flat under make bench)
# and each recycled worker leaves its metric files in PROMETHEUS_MULTIPROC_DIR, which are
# summed on every scrape: thousands of them made scrapes take tens of seconds upstream.
max_requests = 0

# Trust X-Forwarded-* only from the load balancer's addresses.
forwarded_allow_ips = _server.forwarded_allow_ips

# JSON on stdout for the error log and the access log (AccessLogger writes the fields).
logger_class = "popcheck.observability.jsonlog.AccessLogger"
logconfig_dict = gunicorn_logconfig(_log_level)
accesslog = None
errorlog = "-"


def on_starting(server: Any) -> None:
    """Before any worker: forget metric files from a previous run in the same directory."""
    metrics.wipe_multiprocess_dir()


def when_ready(server: Any) -> None:
    """Listening, the app loaded (preload_app): say where the documentation is. With
    ``popcheck serve --announce`` (``make run``) also as one plain line on stderr."""
    url = f"{_server.local_url}/docs"
    server.log.info("ready: the documentation is at %s", url)
    if os.environ.get(ANNOUNCE_ENV) == "1":
        print(f"popcheck is ready: open {url} (Ctrl-C stops it)", file=sys.stderr, flush=True)


def pre_fork(server: Any, worker: Any) -> None:
    """In the master, just before each fork: free what loading left behind, then move all
    the preloaded app built (compiled rules, Flask, marshmallow: about 47,000 tracked
    objects) into the collector's permanent generation, which a worker's collections skip.
    Measured on the shipped app, a full collection in a worker took 34 ms and made it copy
    14 MiB of the master's memory (the collector writes into every object it examines);
    frozen, 0.2 ms and 0.4 MiB. After the first fork the collection here finds almost
    nothing left to examine."""
    gc.collect()
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: publish the ruleset it serves (values set in the master are not
    inherited by the per-process metric files)."""
    metrics.init_process_metrics()
    app = getattr(server.app, "callable", None)
    state = getattr(app, "extensions", {}).get("popcheck") if app is not None else None
    if state is not None:
        ruleset = state.assessor.ruleset
        metrics.set_ruleset_info(ruleset.name, ruleset.version, ruleset.digest)


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker about to exit (shutdown, recycling): count the rule hits it still holds."""
    metrics.flush_rule_hits()


def child_exit(server: Any, worker: Any) -> None:
    """A worker died or was recycled: drop its live gauges from the scrape."""
    metrics.mark_worker_dead(worker.pid)
