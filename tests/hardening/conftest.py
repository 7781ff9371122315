"""Fixtures for the hardening suite: one in-process app for the whole corpus, and one real
``popcheck serve`` (gunicorn with ``deploy/gunicorn.conf.py``, two workers) on 127.0.0.1
shared by every test that needs a socket, started once and always killed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from popcheck.app import create_app
from tests.deploy.harness import Processes, Serve, wait_until
from tests.hardening.processes import worker_pids


@pytest.fixture(scope="session")
def shared_app() -> Flask:
    """One app for hundreds of corpus cases: the corpus reads, never configures."""
    return create_app({"TESTING": True})


@pytest.fixture
def shared_client(shared_app: Flask) -> FlaskClient:
    """A test client of ``shared_app``."""
    return shared_app.test_client()


@pytest.fixture(scope="session")
def gunicorn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """``popcheck serve`` as ``make run`` starts it, but on a free 127.0.0.1 port."""
    processes = Processes(tmp_path_factory.mktemp("hardening-gunicorn"))
    try:
        server = processes.serve("hardening", workers=2, drain_seconds=0)
        # /readyz answers as soon as the first worker is up; the tests want both.
        wait_until(lambda: len(worker_pids(server)) == 2, 30, "both gunicorn workers")
        yield server
    finally:
        processes.cleanup()
