"""Headers every response carries (security, request id), and caching rules."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

REQUESTS = [
    ("POST", "/assess", {"json": {"age": 40}}),
    ("POST", "/assess", {"json": {"age": 1}}),
    ("POST", "/assess", {"data": "x", "content_type": "text/plain"}),
    ("GET", "/assess", {}),
    ("GET", "/healthz", {}),
    ("GET", "/readyz", {}),
    ("GET", "/rules", {}),
    ("GET", "/metrics", {}),
    ("GET", "/openapi.yaml", {}),
    ("GET", "/nowhere", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS)
def test_security_headers_on_every_response(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = client.open(path, method=method, **kwargs)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Server" not in response.headers


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS)
def test_request_id_on_every_response(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, object]
) -> None:
    minted = client.open(path, method=method, **kwargs).headers["X-Request-ID"]
    assert 0 < len(minted) <= 128
    echoed = client.open(path, method=method, headers={"X-Request-ID": "abc-123"}, **kwargs)
    assert echoed.headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("incoming", ["x" * 129, "bad\x01id", "ünï", ""])
def test_insane_request_ids_are_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assigned = response.headers["X-Request-ID"]
    assert assigned != incoming
    assert 0 < len(assigned) <= 128 and assigned.isascii() and assigned.isprintable()


@pytest.mark.parametrize("body", [{"age": 40}, {"age": 1}])
def test_assessments_are_never_cached(client: FlaskClient, body: dict[str, int]) -> None:
    assert client.post("/assess", json=body).headers["Cache-Control"] == "no-store"


def test_json_keys_keep_pipeline_order(client: FlaskClient) -> None:
    text = client.post("/assess", json={"age": 40}).get_data(as_text=True)
    assert text.index('"id"') < text.index('"ruleset"') < text.index('"urgency"')
