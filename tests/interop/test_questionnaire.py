"""GET /fhir/Questionnaire/popcheck-intake: generated from the contract and the catalog, and
valid FHIR (checked with fhir.resources' R4B models: R4B's Questionnaire and
QuestionnaireResponse are R4's)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from flask.testing import FlaskClient

from popcheck.app import create_app
from popcheck.assessment.prepared import question_entries
from popcheck.facts import REQUEST_FIELDS
from popcheck.state import get_state

URL = "/fhir/Questionnaire/popcheck-intake"


def _questionnaire(client: FlaskClient) -> dict[str, Any]:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body: dict[str, Any] = json.loads(response.data)
    return body


def _items(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        found[item["linkId"]] = item
        found.update(_items(item.get("item", [])))
    return found


def test_it_is_valid_fhir(client: FlaskClient) -> None:
    body = _questionnaire(client)
    resource = Questionnaire.model_validate(body)
    assert resource.status == "active"
    assert body["url"] == "https://popcheck.example/fhir/Questionnaire/popcheck-intake"
    assert body["version"] == get_state(client.application).assessor.ruleset.version
    assert body["name"] and body["title"]


def test_one_item_per_request_field_grouped_by_section(client: FlaskClient) -> None:
    body = _questionnaire(client)
    items = _items(body["item"])
    questions = {k: v for k, v in items.items() if v["type"] != "group"}
    assert list(questions) == list(REQUEST_FIELDS)
    for item in body["item"]:
        if item["type"] == "group":
            assert all(c["linkId"].startswith(item["linkId"] + ".") for c in item["item"])
        else:
            assert "." not in item["linkId"]
    assert items["age"]["required"] is True
    assert items["age"]["type"] == "integer"
    assert items["lifestyle.sitting_hours_per_day"]["type"] == "decimal"
    assert items["muscles.tight"]["repeats"] is True
    codes = [o["valueCoding"]["code"] for o in items["onset"]["answerOption"]]
    assert codes == ["sudden", "gradual"]
    system = items["onset"]["answerOption"][0]["valueCoding"]["system"]
    assert system == "https://popcheck.example/fhir/CodeSystem/onset"


def test_every_follow_up_has_enable_when(client: FlaskClient) -> None:
    catalog = get_state(client.application).assessor.ruleset.catalog
    items = _items(_questionnaire(client)["item"])
    gated = {f: leads for f, (_t, leads) in question_entries(catalog).items() if leads}
    assert gated
    for field, item in items.items():
        if field not in gated:
            assert "enableWhen" not in item
            continue
        assert item["enableBehavior"] == "any"
        expected = []
        for lead in gated[field]:
            expected.append({"question": lead, "operator": "=", "answerBoolean": True})
            expected.append({"question": lead, "operator": "exists", "answerBoolean": False})
        assert item["enableWhen"] == expected
        assert all(items[lead]["type"] == "boolean" for lead in gated[field])


@pytest.mark.parametrize("app_config", [{"TESTING": True, "fhir_base": "https://x.test/r4/"}])
def test_the_canonical_base_is_a_setting(client: FlaskClient) -> None:
    body = _questionnaire(client)
    assert body["url"] == "https://x.test/r4/Questionnaire/popcheck-intake"
    onset = _items(body["item"])["onset"]
    assert onset["answerOption"][0]["valueCoding"]["system"] == "https://x.test/r4/CodeSystem/onset"


def test_a_bad_base_refuses_to_start() -> None:
    from popcheck.config import ConfigError

    with pytest.raises(ConfigError, match="fhir_base"):
        create_app({"fhir_base": "not a url"})


def test_it_needs_a_key_when_keys_are_configured() -> None:
    client = create_app({"TESTING": True, "api_keys": ["k"]}).test_client()
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer k"}).status_code == 200
