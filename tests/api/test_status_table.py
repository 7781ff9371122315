"""Every row of the contract's status table (api-contract.md, "Endpoints" and "Errors"),
driven against the app: one parametrized case per row and variant."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from popcheck.app import create_app
from tests.api.support import PROBLEM_JSON, problem

KEY = "s3cret-key"
VALID = {"age": 40}


@dataclass(frozen=True)
class Row:
    """One request and what the contract says it gets."""

    id: str
    request: dict[str, Any]
    status: int
    mimetype: str
    config: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


def _json(document: Any) -> dict[str, Any]:
    return {"data": json.dumps(document), "content_type": "application/json"}


ROWS = [
    # success rows
    Row("assess", {"method": "POST", "path": "/assess", **_json(VALID)}, 200, "application/json"),
    Row(
        "assess-explain",
        {"method": "POST", "path": "/assess?explain=true", **_json(VALID)},
        200,
        "application/json",
    ),
    Row(
        "healthz",
        {"method": "GET", "path": "/healthz"},
        200,
        "application/health+json",
        body={"status": "pass"},
    ),
    Row(
        "livez",
        {"method": "GET", "path": "/livez"},
        200,
        "application/health+json",
        body={"status": "pass"},
    ),
    Row(
        "readyz",
        {"method": "GET", "path": "/readyz"},
        200,
        "application/health+json",
        body={"status": "pass"},
    ),
    Row("metrics", {"method": "GET", "path": "/metrics"}, 200, "text/plain"),
    Row("rules", {"method": "GET", "path": "/rules"}, 200, "application/json"),
    Row("openapi", {"method": "GET", "path": "/openapi.yaml"}, 200, "application/yaml"),
    # 400: not JSON, or not an object
    Row(
        "400-malformed",
        {
            "method": "POST",
            "path": "/assess",
            "data": '{"age": 40',
            "content_type": "application/json",
        },
        400,
        PROBLEM_JSON,
    ),
    Row("400-array", {"method": "POST", "path": "/assess", **_json([VALID])}, 400, PROBLEM_JSON),
    Row("400-string", {"method": "POST", "path": "/assess", **_json("age")}, 400, PROBLEM_JSON),
    Row("400-number", {"method": "POST", "path": "/assess", **_json(40)}, 400, PROBLEM_JSON),
    Row("400-null", {"method": "POST", "path": "/assess", **_json(None)}, 400, PROBLEM_JSON),
    Row(
        "400-nan",
        {
            "method": "POST",
            "path": "/assess",
            "data": '{"age": NaN}',
            "content_type": "application/json",
        },
        400,
        PROBLEM_JSON,
    ),
    # 401: keys configured, no valid bearer key
    Row(
        "401-assess-missing",
        {"method": "POST", "path": "/assess", **_json(VALID)},
        401,
        PROBLEM_JSON,
        config={"api_keys": [KEY]},
        headers={"WWW-Authenticate": "Bearer realm=popcheck"},
    ),
    Row(
        "401-assess-wrong",
        {
            "method": "POST",
            "path": "/assess",
            "headers": {"Authorization": "Bearer nope"},
            **_json(VALID),
        },
        401,
        PROBLEM_JSON,
        config={"api_keys": [KEY]},
        headers={"WWW-Authenticate": "Bearer realm=popcheck, error=invalid_token"},
    ),
    Row(
        "401-rules-missing",
        {"method": "GET", "path": "/rules"},
        401,
        PROBLEM_JSON,
        config={"api_keys": [KEY]},
        headers={"WWW-Authenticate": "Bearer realm=popcheck"},
    ),
    Row(
        "200-assess-with-key",
        {
            "method": "POST",
            "path": "/assess",
            "headers": {"Authorization": f"Bearer {KEY}"},
            **_json(VALID),
        },
        200,
        "application/json",
        config={"api_keys": [KEY]},
    ),
    Row(
        "200-healthz-open-with-keys",
        {"method": "GET", "path": "/healthz"},
        200,
        "application/health+json",
        config={"api_keys": [KEY]},
    ),
    Row(
        "200-readyz-open-with-keys",
        {"method": "GET", "path": "/readyz"},
        200,
        "application/health+json",
        config={"api_keys": [KEY]},
    ),
    Row(
        "200-metrics-open-with-keys",
        {"method": "GET", "path": "/metrics"},
        200,
        "text/plain",
        config={"api_keys": [KEY]},
    ),
    # 404 / 405
    Row("404", {"method": "GET", "path": "/assessment"}, 404, PROBLEM_JSON),
    Row(
        "405-get-assess",
        {"method": "GET", "path": "/assess"},
        405,
        PROBLEM_JSON,
        headers={"Allow": "OPTIONS, POST"},
    ),
    Row(
        "405-post-healthz",
        {"method": "POST", "path": "/healthz"},
        405,
        PROBLEM_JSON,
        headers={"Allow": "GET, HEAD, OPTIONS"},
    ),
    Row(
        "405-delete-rules",
        {"method": "DELETE", "path": "/rules"},
        405,
        PROBLEM_JSON,
        headers={"Allow": "GET, HEAD, OPTIONS"},
    ),
    # 413: over the limit, with a Content-Length (the chunked case is below)
    Row(
        "413-default-limit",
        {
            "method": "POST",
            "path": "/assess",
            "data": b" " * 65537,
            "content_type": "application/json",
        },
        413,
        PROBLEM_JSON,
    ),
    Row(
        "413-configured-limit",
        {"method": "POST", "path": "/assess", **_json({"age": 40, "onset": "gradual"})},
        413,
        PROBLEM_JSON,
        config={"max_body_bytes": 20},
    ),
    Row(
        "200-at-the-limit",
        {
            "method": "POST",
            "path": "/assess",
            "data": '{"age": 40}' + " " * 9,
            "content_type": "application/json",
        },
        200,
        "application/json",
        config={"max_body_bytes": 20},
    ),
    # 415
    Row(
        "415-text",
        {
            "method": "POST",
            "path": "/assess",
            "data": json.dumps(VALID),
            "content_type": "text/plain",
        },
        415,
        PROBLEM_JSON,
        headers={"Accept-Post": "application/json, application/fhir+json"},
    ),
    Row(
        "415-missing",
        {"method": "POST", "path": "/assess", "data": json.dumps(VALID)},
        415,
        PROBLEM_JSON,
    ),
    Row(
        "415-form",
        {"method": "POST", "path": "/assess", "data": {"age": "40"}},
        415,
        PROBLEM_JSON,
    ),
    # 422: wrong type, out of range, unknown enum value, unknown field
    Row(
        "422-wrong-type",
        {"method": "POST", "path": "/assess", **_json({"age": "40"})},
        422,
        PROBLEM_JSON,
        body={"errors": {"age": ["Not a valid integer."]}},
    ),
    Row(
        "422-out-of-range",
        {"method": "POST", "path": "/assess", **_json({"age": 40, "pain": {"level": 11}})},
        422,
        PROBLEM_JSON,
        body={
            "errors": {
                "pain.level": ["Must be greater than or equal to 0 and less than or equal to 10."]
            }
        },
    ),
    Row(
        "422-unknown-enum",
        {"method": "POST", "path": "/assess", **_json({"age": 40, "onset": "slow"})},
        422,
        PROBLEM_JSON,
        body={"errors": {"onset": ["Must be one of: sudden, gradual."]}},
    ),
    Row(
        "422-unknown-field",
        {"method": "POST", "path": "/assess", **_json({"age": 40, "agee": 41})},
        422,
        PROBLEM_JSON,
        body={"errors": {"agee": ["Unknown field."]}},
    ),
    Row(
        "422-misspelled-red-flag",
        {
            "method": "POST",
            "path": "/assess",
            **_json({"age": 40, "neuro": {"saddle_numbnes": True}}),
        },
        422,
        PROBLEM_JSON,
        body={"errors": {"neuro.saddle_numbnes": ["Unknown field."]}},
    ),
    Row(
        "422-missing-age",
        {"method": "POST", "path": "/assess", **_json({})},
        422,
        PROBLEM_JSON,
        body={"errors": {"age": ["Missing data for required field."]}},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_status_table_row(row: Row) -> None:
    client = create_app({"TESTING": True, **row.config}).test_client()
    response = client.open(**row.request)
    assert response.status_code == row.status, response.get_data(as_text=True)
    assert response.mimetype == row.mimetype
    for name, value in row.headers.items():
        # Allow too, exactly: its methods are sorted, whatever the hash seed.
        assert response.headers.get(name) == value, name
    if row.mimetype == PROBLEM_JSON:
        document = problem(response)
        assert set(document) >= {"type", "title", "status", "detail"}
        assert ("errors" in document) == (row.status == 422)
    if row.body is not None:
        document = json.loads(response.get_data(as_text=True))
        assert {key: document[key] for key in row.body} == row.body


def _chunked(body: bytes) -> Request:
    # No Content-Length: the server marks the end of the stream (wsgi.input_terminated),
    # as gunicorn does for Transfer-Encoding: chunked.
    environ = EnvironBuilder(
        path="/assess",
        method="POST",
        content_type="application/json",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked"},
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    return Request(environ)


@pytest.mark.parametrize("size", [65_537, 10 * 1024 * 1024])
def test_413_chunked_without_content_length(client: FlaskClient, size: int) -> None:
    # Valid JSON padded with spaces: cut at the limit it would still parse, so only a real
    # size check can refuse it.
    body = b'{"age": 40}' + b" " * (size - 11)
    response = client.open(_chunked(body))
    assert response.status_code == 413
    assert problem(response)["detail"] == "The body is larger than the limit of 65536 bytes."


def test_chunked_within_the_limit_is_assessed(client: FlaskClient) -> None:
    response = client.open(_chunked(b'{"age": 40}'))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_503_while_draining(client: FlaskClient) -> None:
    from popcheck.state import get_state

    get_state(client.application).readiness.start_draining()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/health+json"
    assert response.get_json() == {"status": "fail"}


def test_500_is_generic() -> None:
    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False})
    from dataclasses import replace

    from popcheck.state import get_state

    class Broken:
        ruleset = get_state(app).assessor.ruleset

        def assess(self, request: Any, **options: Any) -> dict[str, Any]:
            raise RuntimeError("secret internals: /etc/passwd")

    app.extensions["popcheck"] = replace(get_state(app), assessor=Broken())
    response = app.test_client().post("/assess", json=VALID)
    assert response.status_code == 500
    body = problem(response)
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server could not complete the request. The error has been logged.",
    }
    assert "secret" not in response.get_data(as_text=True)
