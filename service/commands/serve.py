"""``popcheck serve``: the production entry point, a small supervisor above gunicorn.

It prepares what gunicorn's workers need before any of them exists (the Prometheus
multiprocess directory, the drain marker path), starts gunicorn with ``deploy/gunicorn.conf.py``
and turns SIGTERM into a drain:

1. create the drain marker, so ``/readyz`` answers 503 in every worker;
2. keep serving for ``POPCHECK_DRAIN_SECONDS`` (default 5) while the load balancer notices;
3. SIGTERM gunicorn, which stops accepting and lets in-flight requests finish;
4. exit with gunicorn's status.

gunicorn alone cannot do this: on SIGTERM it closes its listening socket at once and resets
connections the kernel had already queued. A second SIGTERM or SIGINT during the drain cuts
it short.

Every variable gunicorn.conf.py reads is checked first (service/serversettings.py): a bad value
exits at once, status 2, with one line naming it.

Environment: ``HOST`` (default ``127.0.0.1``; ``0.0.0.0`` for every interface), ``PORT``
(8080), ``WORKERS`` (2), ``REQUEST_TIMEOUT`` (10 s for a request to arrive whole),
``WORKER_CLASS``, ``THREADS``, ``KEEPALIVE``, ``WORKER_CONNECTIONS``, ``FORWARDED_ALLOW_IPS``
(see ``deploy/gunicorn.conf.py``),
``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary directory when unset),
``POPCHECK_DRAIN_SECONDS``, ``POPCHECK_GUNICORN_CONFIG`` (path to the gunicorn config), and
gunicorn's own ``GUNICORN_CMD_ARGS``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from popcheck.config import ConfigError, load_settings
from popcheck.observability.drain import DRAIN_FILE_ENV
from popcheck.observability.jsonlog import configure_process_logging
from popcheck.observability.metrics import MULTIPROC_ENV
from popcheck.serversettings import ANNOUNCE_ENV, load_server_settings

log = logging.getLogger("popcheck.serve")

CONFIG_ENV = "POPCHECK_GUNICORN_CONFIG"
WSGI_TARGET = "popcheck.app:create_app()"
# The checkout's root when running from the repository (``make run``, editable install). An
# installed wheel has no ``deploy/`` next to it, so the Docker image sets CONFIG_ENV instead.
_REPO_ROOT = Path(__file__).resolve().parents[2]


def gunicorn_config_path() -> Path:
    """``$POPCHECK_GUNICORN_CONFIG``, else ``deploy/gunicorn.conf.py`` in the checkout."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return _REPO_ROOT / "deploy" / "gunicorn.conf.py"


def _exit_status(returncode: int) -> int:
    # Popen reports death by signal N as -N; a shell would say 128 + N.
    return 128 - returncode if returncode < 0 else returncode


class _Supervisor:
    """Runs gunicorn as a child and drains on the first SIGTERM/SIGINT."""

    def __init__(self, command: list[str], env: dict[str, str], drain_file: Path) -> None:
        self.command = command
        self.env = env
        self.drain_file = drain_file
        self.stop_requested = threading.Event()
        self.drain_cut_short = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested.is_set():
            self.drain_cut_short.set()
        self.stop_requested.set()

    def run(self, drain_seconds: float) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.process = subprocess.Popen(self.command, env=self.env)
        log.info("gunicorn started", extra={"gunicorn_pid": self.process.pid})
        while not self.stop_requested.wait(0.2):
            if self.process.poll() is not None:
                log.error("gunicorn exited on its own", extra={"status": self.process.returncode})
                return _exit_status(self.process.returncode)

        self.drain_file.touch()
        log.info("draining: /readyz now answers 503", extra={"drain_seconds": drain_seconds})
        # Serve on while the load balancer's health checks see the 503 and stop routing here.
        if self.drain_cut_short.wait(drain_seconds):
            log.info("second signal: drain cut short")
        if self.process.poll() is None:
            log.info("stopping gunicorn: in-flight requests finish")
            self.process.send_signal(signal.SIGTERM)
        status = _exit_status(self.process.wait())
        log.info("gunicorn stopped", extra={"status": status})
        return status


def serve(args: argparse.Namespace) -> int:
    """Start gunicorn under the drain supervisor; returns gunicorn's exit status."""
    configure_process_logging()
    try:
        settings = load_settings()
        load_server_settings()
    except ConfigError as exc:
        log.error("invalid setting: %s", exc)
        return 2
    logging.getLogger().setLevel(settings.log_level)

    env = dict(os.environ)
    env.pop(ANNOUNCE_ENV, None)
    if getattr(args, "announce", False):
        env[ANNOUNCE_ENV] = "1"
    owned_dirs: list[Path] = []
    if not env.get(MULTIPROC_ENV):
        # prometheus-client reads this when first imported, so it must exist before gunicorn
        # (and the app in it) starts; a fresh directory per run keeps counts from mixing.
        metrics_dir = Path(tempfile.mkdtemp(prefix="popcheck-metrics-"))
        owned_dirs.append(metrics_dir)
        env[MULTIPROC_ENV] = str(metrics_dir)
    else:
        # The app creates value files while gunicorn loads it, before on_starting runs.
        Path(env[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)

    config = gunicorn_config_path()
    if not config.is_file():
        log.error("gunicorn config not found", extra={"path": str(config), "env": CONFIG_ENV})
        for directory in owned_dirs:
            shutil.rmtree(directory, ignore_errors=True)
        return 2

    runtime_dir = Path(tempfile.mkdtemp(prefix="popcheck-run-"))
    owned_dirs.append(runtime_dir)
    drain_file = runtime_dir / "draining"
    env[DRAIN_FILE_ENV] = str(drain_file)

    command = [sys.executable, "-m", "gunicorn", "-c", str(config), WSGI_TARGET]
    supervisor = _Supervisor(command, env, drain_file)
    try:
        return supervisor.run(settings.drain_seconds)
    finally:
        for directory in owned_dirs:
            shutil.rmtree(directory, ignore_errors=True)


_EPILOG = """environment:
  HOST, PORT                 bind address (default 127.0.0.1:8080; HOST=0.0.0.0 for every
                             interface)
  WORKERS                    gunicorn worker processes (2)
  REQUEST_TIMEOUT            seconds a request gets to arrive whole (10); slower clients
                             are cut off
  WORKER_CLASS, THREADS, WORKER_CONNECTIONS, KEEPALIVE, FORWARDED_ALLOW_IPS
                             see deploy/gunicorn.conf.py
  POPCHECK_DRAIN_SECONDS     drain after SIGTERM (5)
  PROMETHEUS_MULTIPROC_DIR   metric files of the workers (default: a fresh temp dir)
  POPCHECK_GUNICORN_CONFIG   gunicorn config (default: deploy/gunicorn.conf.py)
  GUNICORN_CMD_ARGS          extra gunicorn flags
"""


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``popcheck`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP service under gunicorn (production entry point)",
        description=(
            "Run popcheck under gunicorn with deploy/gunicorn.conf.py. On SIGTERM or SIGINT,\n"
            "/readyz answers 503 for POPCHECK_DRAIN_SECONDS while requests are still served,\n"
            "then gunicorn stops gracefully; a second signal cuts the drain short."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--announce",
        action="store_true",
        help="once listening, print one plain line with the address of /docs (make run)",
    )
    parser.set_defaults(func=serve)
