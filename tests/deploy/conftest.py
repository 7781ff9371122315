"""Fixtures for the deploy suite: real processes on 127.0.0.1, always cleaned up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.harness import Processes


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    """Start ``popcheck serve`` instances (and haproxy) for one test; all killed afterwards."""
    processes = Processes(tmp_path)
    try:
        yield processes
    finally:
        processes.cleanup()
