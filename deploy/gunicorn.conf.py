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

from service.observability import metrics
from service.observability.jsonlog import gunicorn_logconfig

# Only gunicorn's settings and hooks are used here, none of its internals is patched. Two of
# gunicorn's own behaviours therefore stay, because no setting changes them and a WSGI
# middleware cannot reach them (README: the errors under "Endpoints", and "Running it"):
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

bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"]
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "1"))

# Worker class: sync, chosen by measuring POST /assess (real ruleset, realistic body) with wrk,
# 16 connections, 4-5 s runs alternating sync / gthread on this shared 2-core machine (Nov 2026).
# req/s sync 2 vs gthread 2x4, and p99:
#   before the request fast path: 1049/951, 859/936, 1949/1761, 1508/1435, 1019/1065 (median
#     ratio 1.05); p99 lower for sync in 3 of 5 pairs;
#   after it: 1192/1286, 1238/1776, 1910/1843, 1597/1664 (median 0.95); p99 sync 18-27 ms,
#     gthread 35-60 ms in every pair.
# Throughput is a tie within the noise; sync's tail is half of gthread's. 4 sync workers reached
# 0.4-0.7x of 2. An assessment is pure CPU with nothing to wait on, so threads only add GIL
# handoffs. sync ignores keep-alive and one slow client holds a worker: HAProxy buffers whole
# requests (deploy/haproxy.cfg), so workers only see complete ones. Set WORKER_CLASS=gthread and
# THREADS>1 to face slow clients directly.
worker_class = os.environ.get("WORKER_CLASS", "sync")

# Load the app (and compile the ruleset) once in the master: a broken ruleset stops gunicorn
# before any worker forks, workers start in milliseconds, and the compiled tables are shared
# copy-on-write. Per-worker metric values are therefore set in ``post_fork``, not at load.
preload_app = True

# A request takes about a millisecond; a worker silent for 30 s is stuck, not busy.
timeout = 30
# In-flight requests get this long after SIGTERM. Kubernetes' terminationGracePeriodSeconds
# must cover preStop sleep + POPCHECK_DRAIN_SECONDS + this + a margin (tests/deploy checks it).
graceful_timeout = 20
# Only gthread honours keep-alive; it must outlast the load balancer's idle timeout so the
# balancer closes idle connections, never gunicorn (a race that turns into 502s).
keepalive = int(os.environ.get("KEEPALIVE", "75"))

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
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# JSON on stdout for the error log and the access log (AccessLogger writes the fields).
logger_class = "service.observability.jsonlog.AccessLogger"
logconfig_dict = gunicorn_logconfig(os.environ.get("POPCHECK_LOG_LEVEL", "INFO").upper())
accesslog = None
errorlog = "-"


def on_starting(server: Any) -> None:
    """Before any worker: forget metric files from a previous run in the same directory."""
    metrics.wipe_multiprocess_dir()


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
