"""Optional API keys on /assess and /rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from popcheck.api.auth import key_is_valid
from popcheck.app import create_app
from tests.api.support import assert_problem

KEYS = ["first-key", "second-key"]


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TESTING": True, "api_keys": KEYS}


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_any_configured_key_is_accepted(client: FlaskClient, key: str, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {key}"}
    assert client.post("/assess", json={"age": 40}, headers=headers).status_code == 200
    assert client.get("/rules", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, "Bearer realm=popcheck"),
        ("", "Bearer realm=popcheck"),
        ("Bearer", "Bearer realm=popcheck"),
        ("Bearer ", "Bearer realm=popcheck"),
        ("Basic Zmlyc3Qta2V5Og==", "Bearer realm=popcheck"),
        ("first-key", "Bearer realm=popcheck"),
        ("Bearer first-ke", "Bearer realm=popcheck, error=invalid_token"),
        ("Bearer first-key2", "Bearer realm=popcheck, error=invalid_token"),
        ("Bearer FIRST-KEY", "Bearer realm=popcheck, error=invalid_token"),
        ("Bearer ünï", "Bearer realm=popcheck, error=invalid_token"),
    ],
)
@pytest.mark.parametrize("path", ["/assess", "/rules"])
def test_missing_or_wrong_key_is_401(
    client: FlaskClient, authorization: str | None, challenge: str, path: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    if path == "/assess":
        response = client.post(path, json={"age": 40}, headers=headers)
    else:
        response = client.get(path, headers=headers)
    body = assert_problem(response, 401, "Unauthorized")
    assert response.headers["WWW-Authenticate"] == challenge
    for key in KEYS:
        assert key not in str(body)


def test_auth_comes_before_the_body(client: FlaskClient) -> None:
    # Without a key the caller learns nothing about its body: not 415, 400 or 422.
    response = client.post("/assess", data="not json", content_type="text/plain")
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/metrics", "/openapi.yaml"])
def test_operations_endpoints_stay_open(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_no_keys_means_open() -> None:
    client = create_app({"TESTING": True}).test_client()
    assert client.post("/assess", json={"age": 40}).status_code == 200
    assert client.get("/rules").status_code == 200


def test_keys_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# one key per line\nfile-key\n\n", encoding="utf-8")
    monkeypatch.setenv("POPCHECK_API_KEYS", str(keys))
    client = create_app({"TESTING": True}).test_client()
    assert client.get("/rules").status_code == 401
    assert client.get("/rules", headers={"Authorization": "Bearer file-key"}).status_code == 200


def test_keys_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPCHECK_API_KEYS", "a-key, b-key")
    client = create_app({"TESTING": True}).test_client()
    assert client.get("/rules", headers={"Authorization": "Bearer b-key"}).status_code == 200
    assert client.get("/rules", headers={"Authorization": "Bearer c-key"}).status_code == 401


def test_key_comparison() -> None:
    assert key_is_valid("b", ("a", "b"))
    assert not key_is_valid("c", ("a", "b"))
    assert not key_is_valid("", ("a",))
    assert not key_is_valid("a", ())


def test_options_needs_no_key(client: FlaskClient) -> None:
    # A CORS preflight carries no credentials; OPTIONS only lists the allowed methods.
    response = client.options("/assess")
    assert response.status_code == 204
    assert set(response.headers["Allow"].split(", ")) >= {"POST", "OPTIONS"}
    assert client.post("/assess", json={"age": 40}).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/docs", 200), ("GET", "/nowhere", 404), ("GET", "/assess", 405)],
)
def test_only_the_protected_endpoints_ask_for_a_key(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    assert client.open(path, method=method).status_code == status


def test_a_401_still_carries_a_request_id(client: FlaskClient) -> None:
    response = client.post("/assess", json={"age": 40}, headers={"X-Request-ID": "abc"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "abc"
