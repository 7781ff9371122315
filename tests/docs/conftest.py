"""Fixtures for the developer-experience tests: one app for the module, a fresh client each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from popcheck.app import create_app


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    """The real app with the shipped rules (compiling them once per module is enough)."""
    yield create_app({"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the module's app."""
    return app.test_client()
