"""``examples/fhir/``: every file runs through the app and does what docs/interoperability.md
says it does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask.testing import FlaskClient

from popcheck.api.cds import CLOCK_CONFIG

ROOT = Path(__file__).resolve().parents[2]
FHIR_EXAMPLES = ROOT / "examples" / "fhir"
GUIDE = ROOT / "docs" / "interoperability.md"


@pytest.fixture
def app_config() -> dict[str, Any]:
    import datetime as dt

    return {"TESTING": True, CLOCK_CONFIG: lambda: dt.date(2026, 1, 5)}


def _load(name: str) -> Any:
    return json.loads((FHIR_EXAMPLES / name).read_text(encoding="utf-8"))


def test_the_questionnaire_response_assesses_as_the_json_example(client: FlaskClient) -> None:
    resource = _load("sciatica.questionnaire-response.json")
    QuestionnaireResponse.model_validate(resource)
    as_fhir = client.post(
        "/assess", data=json.dumps(resource), content_type="application/fhir+json"
    ).get_json()
    as_json = client.post(
        "/assess", json=json.loads((ROOT / "examples" / "sciatica.json").read_text())
    ).get_json()
    for key in ("urgency", "red_flags", "causes", "recommendations", "questions"):
        assert as_fhir[key] == as_json[key]


def test_the_hook_call_gives_one_critical_card(client: FlaskClient) -> None:
    call = _load("cds-patient-view.json")
    Bundle.model_validate(call["prefetch"]["intake"])
    response = client.post("/cds-services/popcheck-back-triage", json=call)
    assert response.status_code == 200
    (card,) = response.get_json()["cards"]
    assert card["indicator"] == "critical"


def test_the_feedback_is_accepted(client: FlaskClient) -> None:
    response = client.post(
        "/cds-services/popcheck-back-triage/feedback", json=_load("cds-feedback.json")
    )
    assert response.status_code == 200


def test_the_guide_names_every_example_and_route() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for path in FHIR_EXAMPLES.glob("*.json"):
        assert f"examples/fhir/{path.name}" in guide
    for route in (
        "/fhir/Questionnaire/popcheck-intake",
        "/cds-services",
        "/cds-services/popcheck-back-triage/feedback",
    ):
        assert route in guide
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"\]\(docs/interoperability\.md\)", readme)
