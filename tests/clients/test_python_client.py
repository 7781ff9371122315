"""The client callers generate with openapi-python-client, driving the app: every persona,
an explained assessment, a 422 and a 415, each parsed into a generated model that turns back
(``to_dict()``) into exactly the JSON the service sent.

In-process: the generated client is httpx, given ``httpx.WSGITransport`` over the app.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from flask import Flask

from tests.clients.conftest import ROOT, Generated

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def test_the_generator_warns_about_nothing(generated: Generated) -> None:
    # openapi-python-client says "Warning(s) encountered" and then each piece it left out
    # (an unsupported media type, a schema it cannot type).
    assert "warning" not in generated.output.lower(), generated.output
    assert "error" not in generated.output.lower(), generated.output


def _client(popcheck_client: ModuleType, app: Flask, **httpx_args: Any) -> Any:
    transport = httpx.WSGITransport(app=app)
    return popcheck_client.Client(
        base_url="http://popcheck.test",
        raise_on_unexpected_status=True,
        httpx_args={"transport": transport, **httpx_args},
    )


def _assess(popcheck_client: ModuleType, client: Any, body: dict[str, Any], **kw: Any) -> Any:
    from popcheck_client.api.assessment import assess  # type: ignore[import-not-found]
    from popcheck_client.models import AssessmentRequest  # type: ignore[import-not-found]

    request = AssessmentRequest.from_dict(body)
    # The request model says what the caller sent, field for field.
    assert request.to_dict() == body
    with client:
        return assess.sync_detailed(client=client, body=request, **kw)


def _round_trips(response: Any, model: type) -> Any:
    parsed = response.parsed
    assert isinstance(parsed, model), (response.status_code, parsed)
    assert parsed.to_dict() == json.loads(response.content)
    return parsed


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_persona(popcheck_client: ModuleType, app: Flask, example: Path) -> None:
    body = json.loads(example.read_text())
    response = _assess(popcheck_client, _client(popcheck_client, app), body)
    assert response.status_code == 200
    assessment = _round_trips(response, popcheck_client.models.Assessment)
    expected = (ROOT / "examples" / f"{example.stem}.expect.yaml").read_text()
    assert assessment.urgency.level.value in expected


def test_explained(popcheck_client: ModuleType, app: Flask) -> None:
    body = json.loads((ROOT / "examples" / "sciatica.json").read_text())
    response = _assess(popcheck_client, _client(popcheck_client, app), body, explain=True)
    assert response.status_code == 200
    assessment = _round_trips(response, popcheck_client.models.Assessment)
    assert assessment.trace and all(entry.matched is not None for entry in assessment.trace)
    models = popcheck_client.models
    assert any(isinstance(m, models.TraceMatch) for e in assessment.trace for m in e.matched)


def test_validation_problem(popcheck_client: ModuleType, app: Flask) -> None:
    body = {"age": 12, "pain": {"level": 11}, "stiffness": {"range_of_motion": None}}
    response = _assess(popcheck_client, _client(popcheck_client, app), body)
    assert response.status_code == 422
    problem = _round_trips(response, popcheck_client.models.ValidationProblem)
    assert problem.status == 422
    assert set(problem.errors.additional_properties) == {"age", "pain.level"}


def test_unsupported_media_type(popcheck_client: ModuleType, app: Flask) -> None:
    def as_text(request: httpx.Request) -> None:
        request.headers["Content-Type"] = "text/plain"

    client = _client(popcheck_client, app, event_hooks={"request": [as_text]})
    response = _assess(popcheck_client, client, {"age": 40})
    assert response.status_code == 415
    problem = _round_trips(response, popcheck_client.models.Problem)
    assert problem.status == 415


def test_rules_health_and_the_spec(popcheck_client: ModuleType, app: Flask) -> None:
    from popcheck_client.api.operations import healthz, openapi  # type: ignore[import-not-found]
    from popcheck_client.api.rules import get_rules  # type: ignore[import-not-found]

    with _client(popcheck_client, app) as client:
        rules = get_rules.sync_detailed(client=client)
        health = healthz.sync_detailed(client=client)
        spec = openapi.sync(client=client)
    _round_trips(rules, popcheck_client.models.RulesetDescription)
    _round_trips(health, popcheck_client.models.Health)
    # The YAML document as text (examples/clients/openapi-python-client.yaml says why).
    assert spec == (ROOT / "openapi.yaml").read_text(encoding="utf-8")
