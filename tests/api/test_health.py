"""Liveness and readiness, including draining."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from popcheck.api.health import is_ready
from popcheck.state import get_state

PASS = {"status": "pass"}
FAIL = {"status": "fail"}


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_probes_pass(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/health+json"
    assert response.get_json(force=True) == PASS
    assert response.headers["Cache-Control"] == "no-store"


def test_head_works_for_probes(client: FlaskClient) -> None:
    assert client.head("/readyz").status_code == 200


def test_draining_fails_readiness_but_not_liveness(app: Flask, client: FlaskClient) -> None:
    assert is_ready(app)
    get_state(app).readiness.start_draining()
    assert not is_ready(app)
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json(force=True)) == (503, FAIL)
    live = client.get("/healthz")
    assert (live.status_code, live.get_json(force=True)) == (200, PASS)
    assert client.get("/livez").status_code == 200


def test_drain_file_from_popcheck_serve_fails_readiness(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "draining"
    monkeypatch.setenv("POPCHECK_DRAIN_FILE", str(marker))
    assert client.get("/readyz").status_code == 200
    marker.touch()
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_readiness_checks_are_consulted(app: Flask, client: FlaskClient) -> None:
    healthy = {"db": True}
    get_state(app).readiness.add_check(lambda: healthy["db"])
    assert client.get("/readyz").status_code == 200
    healthy["db"] = False
    assert client.get("/readyz").status_code == 503
    healthy["db"] = True
    assert client.get("/readyz").status_code == 200


def test_each_app_has_its_own_readiness(app: Flask) -> None:
    from popcheck.app import create_app

    other = create_app({"TESTING": True})
    get_state(other).readiness.start_draining()
    assert is_ready(app)
    assert not is_ready(other)
