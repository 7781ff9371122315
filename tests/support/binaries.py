"""Find the system programs that slow tests drive for real (haproxy, wrk, chromium).

Locally a missing program skips the test with the reason; under CI (``CI`` set) it fails,
because ``.ci/run`` installs them and a silently skipped test would hide a broken install.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_binary(name: str, *, package: str | None = None) -> str:
    """Return the absolute path of ``name`` on ``PATH``; skip (locally) or fail (CI) if absent.

    ``package`` is the Debian package that provides it, when the names differ
    (``chromedriver`` comes from ``chromium-driver``).
    """
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed (apt-get install {package or name}; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI is set, so this is a failure, not a skip")
    pytest.skip(message)
