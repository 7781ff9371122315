"""Fixtures shared by every suite, as in Flask's tutorial (flaskr): a fresh ``app`` per test
from ``create_app({...})`` and a ``client`` derived from it.

A test that needs other settings overrides ``app_config`` (a dict) in its module or
parametrizes it; ``create_app`` takes setting names (``api_keys``, ``max_body_bytes``, ...)
next to Flask keys (``TESTING``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import popcheck.app
from popcheck.app import create_app
from popcheck.assessment import Assessor


@pytest.fixture
def app_config() -> dict[str, Any]:
    """What ``app`` passes to ``create_app``; override to change settings."""
    return {"TESTING": True}


@pytest.fixture
def app(app_config: dict[str, Any]) -> Flask:
    """A new app for this test."""
    return create_app(app_config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of this test's app."""
    return app.test_client()


def _rules_fingerprint(rules_dir: Path) -> tuple[Any, ...]:
    files = sorted(p for p in Path(rules_dir).rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@pytest.fixture(scope="session", autouse=True)
def _compile_each_ruleset_once() -> Iterator[None]:
    """Compile a rules directory once per session instead of once per ``create_app``.

    Loading and checking the shipped tables takes a good fraction of a second; a fresh app
    per test would spend minutes on it. An ``Assessor`` is read-only, so apps may share one.
    The cache key includes every file's mtime and size, so a test that edits a rules
    directory gets a fresh load, and a broken directory still raises every time.
    """
    original = popcheck.app.load_assessor
    cache: dict[tuple[Any, ...], Assessor] = {}

    def load_once(rules_dir: Path) -> Assessor:
        key = (Path(rules_dir).resolve(), _rules_fingerprint(rules_dir))
        if key not in cache:
            cache[key] = original(rules_dir)
        return cache[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(popcheck.app, "load_assessor", load_once)
        yield
