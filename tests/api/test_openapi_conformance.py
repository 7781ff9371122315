"""Real responses from the app validate against ``openapi.yaml`` (openapi-core), and the
marshmallow response schemas load them: status, headers, media type and body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from popcheck.app import create_app
from popcheck.schemas import AssessmentSchema, RulesetDescriptionSchema
from tests.api.support import ROOT, SPEC_PATH, send

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def _json_bytes(data: bytes | str) -> Any:
    return json.loads(data)


def _text(data: bytes | str) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


def _binary(data: bytes | str) -> str:
    # JSON Schema has no bytes; latin-1 maps every byte to one character.
    return data.decode("latin-1") if isinstance(data, bytes) else data


# openapi-core only deserializes application/json out of the box.
OPENAPI = OpenAPI.from_file_path(
    str(SPEC_PATH),
    config=Config(
        extra_media_type_deserializers={
            "application/problem+json": _json_bytes,
            "application/health+json": _json_bytes,
            # YAML text: a string in the spec, so client generators read it as text.
            # test_spec holds the text to the committed openapi.yaml.
            "application/yaml": _text,
            "text/html": _text,
            "text/javascript": _text,
            "text/css": _text,
            "text/plain": _text,
            "image/png": _binary,
        }
    ),
)


def check(client: FlaskClient, *, validate_request: bool = True, **request: Any) -> Any:
    """Send the request, validate request (when valid by design) and response against the
    spec, and return the response."""
    openapi_request, response = send(client, **request)
    if validate_request:
        OPENAPI.validate_request(WerkzeugOpenAPIRequest(openapi_request))
    OPENAPI.validate_response(
        WerkzeugOpenAPIRequest(openapi_request), WerkzeugOpenAPIResponse(response)
    )
    return response


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("explain", ["", "?explain=true", "?explain=false"])
def test_assessments_conform(client: FlaskClient, example: Path, explain: str) -> None:
    response = check(
        client,
        method="POST",
        path=f"/assess{explain}",
        data=example.read_bytes(),
        content_type="application/json",
    )
    assert response.status_code == 200
    AssessmentSchema().load(response.get_json())


@pytest.mark.parametrize(
    "document",
    [
        {"age": 16},
        {"age": 120, "pain": None, "neuro": None, "muscles": {"tight": []}},
        {"age": 45, "last_pop_minutes_ago": 3, "duration_days": 30},
        {"age": 75, "onset": "sudden", "pain": {"level": 9, "eased_lying_down": True}},
        {"age": 30, "systemic": {"fever": True}, "history": {"iv_drug_use": True}},
        {"age": 60, "history": {"osteoporosis": True, "recent_trauma": "minor"}},
    ],
)
def test_more_assessments_conform(client: FlaskClient, document: dict[str, Any]) -> None:
    response = check(client, method="POST", path="/assess", json=document)
    assert response.status_code == 200
    AssessmentSchema().load(response.get_json())


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"data": "{", "content_type": "application/json"}, 400),
        ({"json": [1]}, 400),
        ({"data": b" " * 70_000, "content_type": "application/json"}, 413),
        ({"data": "{}", "content_type": "text/plain"}, 415),
        ({"json": {"age": 15}}, 422),
        ({"json": {"age": 40, "pain": {"level": "high", "x": 1}}}, 422),
        ({"json": {"age": 40, "muscles": {"tight": ["hips", "hips"]}}}, 422),
    ],
)
def test_assess_errors_conform(
    client: FlaskClient, request_kwargs: dict[str, Any], status: int
) -> None:
    response = check(
        client, validate_request=False, method="POST", path="/assess", **request_kwargs
    )
    assert response.status_code == status


def test_401_conforms() -> None:
    client = create_app({"TESTING": True, "api_keys": ["k"]}).test_client()
    response = check(client, method="POST", path="/assess", json={"age": 40})
    assert response.status_code == 401
    response = check(client, method="GET", path="/rules")
    assert response.status_code == 401
    response = check(client, method="GET", path="/rules", headers={"Authorization": "Bearer k"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/livez",
        "/readyz",
        "/metrics",
        "/openapi.yaml",
        "/rules",
        "/",
        "/docs",
    ],
)
def test_get_endpoints_conform(client: FlaskClient, path: str) -> None:
    response = check(client, method="GET", path=path, headers={"X-Request-ID": "conformance"})
    assert response.status_code < 400
    assert response.headers["X-Request-ID"] == "conformance"


def test_rules_body_loads(client: FlaskClient) -> None:
    RulesetDescriptionSchema().load(client.get("/rules").get_json())


def test_readyz_503_conforms(client: FlaskClient) -> None:
    from popcheck.state import get_state

    get_state(client.application).readiness.start_draining()
    response = check(client, method="GET", path="/readyz")
    assert response.status_code == 503


def test_500_conforms() -> None:
    from dataclasses import replace

    from popcheck.state import get_state

    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False})
    state = get_state(app)

    class Broken:
        ruleset = state.assessor.ruleset

        def assess(self, request: Any, **options: Any) -> dict[str, Any]:
            raise RuntimeError("boom")

    app.extensions["popcheck"] = replace(state, assessor=Broken())
    response = check(app.test_client(), method="POST", path="/assess", json={"age": 40})
    assert response.status_code == 500


def test_an_undocumented_shape_fails_validation(client: FlaskClient) -> None:
    # Guard against a validator that passes everything.
    from openapi_core.templating.responses.exceptions import ResponseNotFound
    from openapi_core.validation.response.exceptions import InvalidData

    openapi_request, response = send(client, method="POST", path="/assess", json={"age": 40})
    body = response.get_json()
    body["urgency"]["level"] = "whenever"
    response.set_data(json.dumps(body))
    with pytest.raises(InvalidData):
        OPENAPI.validate_response(
            WerkzeugOpenAPIRequest(openapi_request), WerkzeugOpenAPIResponse(response)
        )
    response.status_code = 418
    with pytest.raises(ResponseNotFound):
        OPENAPI.validate_response(
            WerkzeugOpenAPIRequest(openapi_request), WerkzeugOpenAPIResponse(response)
        )
