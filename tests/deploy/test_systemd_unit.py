"""deploy/popcheck.service: the drain must survive a systemd stop.

With systemd's default KillMode (control-group) gunicorn would receive SIGTERM at the same
moment as ``popcheck serve`` and stop before the drain; ``mixed`` signals only the main
process. The stop timeout must leave room for the drain and gunicorn's graceful timeout.
"""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

from popcheck.config import Settings
from tests.support.binaries import require_binary

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "popcheck.service"


def _unit() -> configparser.ConfigParser:
    # systemd repeats keys (Environment=); the last one is enough for these checks.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT)
    return parser


def test_stop_signals_only_popcheck_serve_which_drains() -> None:
    service = _unit()["Service"]
    assert service["KillMode"] == "mixed"
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecStart"].endswith("/popcheck serve")


def test_stop_timeout_covers_the_drain_and_gunicorns_graceful_timeout() -> None:
    conf = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    found = re.search(r"^graceful_timeout\s*=\s*(\d+)", conf, re.MULTILINE)
    assert found is not None
    graceful = int(found.group(1))
    text = UNIT.read_text()
    drain = re.search(r"POPCHECK_DRAIN_SECONDS=(\d+)", text)
    drain_seconds = float(drain.group(1)) if drain else Settings().drain_seconds
    assert int(_unit()["Service"]["TimeoutStopSec"]) > drain_seconds + graceful


def test_systemd_accepts_the_unit() -> None:
    """Where systemd-analyze exists, the unit's only complaint is the absent install."""
    analyze = require_binary("systemd-analyze", package="systemd")
    done = subprocess.run(
        [analyze, "verify", str(UNIT)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/opt/popcheck/bin/popcheck" not in line
    ]
    assert complaints == []
