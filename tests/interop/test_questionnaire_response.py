"""POST /assess with a FHIR QuestionnaireResponse: the same assessment as the same answers
in JSON, and problem documents, never a 500, for anything else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask.testing import FlaskClient

from bench._payloads import questionnaire_response
from popcheck.app import create_app
from popcheck.golden import load_cases

FHIR = "application/fhir+json"
CASES = load_cases(Path(__file__).parents[1] / "golden")
URL = "https://popcheck.example/fhir/Questionnaire/popcheck-intake"


@pytest.fixture(scope="module")
def shared() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


@pytest.fixture(scope="module")
def questionnaire(shared: FlaskClient) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(shared.get("/fhir/Questionnaire/popcheck-intake").data)
    return body


def _summary(body: dict[str, Any]) -> tuple[Any, ...]:
    return (
        body["urgency"],
        [flag["id"] for flag in body["red_flags"]],
        [(cause["id"], cause["likelihood"]) for cause in body["causes"]],
        body["questions"],
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_golden_case_as_a_questionnaire_response(
    shared: FlaskClient, questionnaire: dict[str, Any], case: Any
) -> None:
    as_json = shared.post("/assess", json=case.input)
    resource = questionnaire_response(questionnaire, case.input)
    QuestionnaireResponse.model_validate(resource)
    as_fhir = shared.post("/assess", data=json.dumps(resource), content_type=FHIR)
    assert as_fhir.status_code == as_json.status_code, as_fhir.get_data(as_text=True)
    if as_json.status_code == 200:
        assert _summary(as_fhir.get_json()) == _summary(as_json.get_json())
        assert as_fhir.headers["Cache-Control"] == "no-store"


def _post(client: FlaskClient, resource: Any, **kwargs: Any) -> Any:
    data = resource if isinstance(resource, str | bytes) else json.dumps(resource)
    return client.post("/assess", data=data, content_type=FHIR, **kwargs)


def _qr(*items: dict[str, Any], questionnaire: str = URL) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire,
        "status": "completed",
        "item": list(items),
    }


AGE = {"linkId": "age", "answer": [{"valueInteger": 40}]}


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    errors: dict[str, list[str]] = response.get_json()["errors"]
    return errors


def test_unknown_link_id(client: FlaskClient) -> None:
    assert "neuro.saddle" in _errors(_post(client, _qr(AGE, {"linkId": "neuro.saddle"})))


def test_wrong_answer_type(client: FlaskClient) -> None:
    bad = {"linkId": "age", "answer": [{"valueString": "40"}]}
    assert list(_errors(_post(client, _qr(bad)))) == ["age"]
    bool_for_int = {"linkId": "age", "answer": [{"valueInteger": True}]}
    assert list(_errors(_post(client, _qr(bool_for_int)))) == ["age"]


def test_wrong_code(client: FlaskClient) -> None:
    onset = {"linkId": "onset", "answer": [{"valueCoding": {"code": "slowly"}}]}
    assert list(_errors(_post(client, _qr(AGE, onset)))) == ["onset"]


def test_another_questionnaire(client: FlaskClient) -> None:
    errors = _errors(_post(client, _qr(AGE, questionnaire="https://x.test/Questionnaire/phq9")))
    assert list(errors) == ["questionnaire"]


def test_a_version_suffix_is_accepted(client: FlaskClient) -> None:
    assert _post(client, _qr(AGE, questionnaire=URL + "|1.1.0")).status_code == 200


def test_item_outside_its_group(client: FlaskClient) -> None:
    loose = {"linkId": "pain.level", "answer": [{"valueInteger": 3}]}
    assert list(_errors(_post(client, _qr(AGE, loose)))) == ["pain.level"]


def test_repeated_item_and_two_answers(client: FlaskClient) -> None:
    assert list(_errors(_post(client, _qr(AGE, AGE)))) == ["age"]
    two = {"linkId": "age", "answer": [{"valueInteger": 40}, {"valueInteger": 41}]}
    assert list(_errors(_post(client, _qr(two)))) == ["age"]


def test_validation_errors_are_keyed_by_link_id(client: FlaskClient) -> None:
    pain = {"linkId": "pain", "item": [{"linkId": "pain.level", "answer": [{"valueInteger": 11}]}]}
    assert list(_errors(_post(client, _qr(AGE, pain)))) == ["pain.level"]
    assert list(_errors(_post(client, _qr()))) == ["age"]


def test_none_of_the_options_is_an_empty_list(client: FlaskClient) -> None:
    tight = {
        "linkId": "muscles",
        "item": [{"linkId": "muscles.tight", "answer": [{"valueCoding": {"code": "none"}}]}],
    }
    assert _post(client, _qr(AGE, tight)).status_code == 200
    tight["item"][0]["answer"].append({"valueCoding": {"code": "hips"}})
    assert list(_errors(_post(client, _qr(AGE, tight)))) == ["muscles.tight"]


def test_not_a_questionnaire_response(client: FlaskClient) -> None:
    assert list(_errors(_post(client, {"resourceType": "Patient"}))) == ["resourceType"]


@pytest.mark.parametrize(
    "body", ["{", "[]", '{"resourceType": NaN}', '{"a": 1, "a": 2}', "", "\xff"]
)
def test_malformed_fhir_is_400(client: FlaskClient, body: str) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "resource",
    [
        _qr(AGE) | {"item": "x"},
        _qr(AGE, "x"),  # type: ignore[arg-type]
        _qr(AGE, {"linkId": 7}),
        _qr(AGE, {"linkId": "pain", "item": [{"linkId": "pain", "item": []}]}),
        _qr(AGE, {"linkId": "pain", "answer": [{"valueBoolean": True}]}),
        _qr({"linkId": "age", "answer": "x"}),
        _qr({"linkId": "age", "answer": [7]}),
        _qr({"linkId": "age", "answer": [{"valueInteger": 40, "valueString": "x"}]}),
        _qr({"linkId": "age", "item": []}),
        _qr({"linkId": "onset", "answer": [{"valueCoding": "sudden"}]}),
        _qr({"linkId": "onset", "answer": [{"valueCoding": {"system": "x", "code": "sudden"}}]}),
        _qr(AGE) | {"status": "entered-in-error"},
        _qr(
            {
                "linkId": "lifestyle",
                "item": [
                    {
                        "linkId": "lifestyle.sitting_hours_per_day",
                        "answer": [{"valueDecimal": "1e999"}],
                    }
                ],
            }
        ),
    ],
)
def test_hostile_responses_are_422(client: FlaskClient, resource: Any) -> None:
    _errors(_post(client, resource))


def test_an_item_without_a_usable_link_id_is_named_by_its_place(client: FlaskClient) -> None:
    pain = {
        "linkId": "pain",
        "item": [{"linkId": "pain.level", "answer": [{"valueInteger": 3}]}, 7],
    }
    errors = _errors(_post(client, _qr(AGE, "x", {"linkId": 7}, pain)))
    assert errors == {
        "item.1": ["An item must be an object."],
        "item.2": ["An item needs a 'linkId' (a string)."],
        "pain.1": ["An item must be an object."],
    }


def test_an_answer_holds_its_value_and_nothing_else(client: FlaskClient) -> None:
    extra = {"linkId": "onset", "answer": [{"valueCoding": {"code": "sudden"}, "id": "a1"}]}
    assert _post(client, _qr(AGE, extra)).status_code == 200
    extra["answer"][0]["valueString"] = "x"
    assert _errors(_post(client, _qr(AGE, extra))) == {
        "onset": ["An answer holds 'valueCoding' and nothing else."]
    }
    unknown = {"linkId": "onset", "answer": [{"valueCoding": {"code": "gradually"}}]}
    assert "onset" in _errors(_post(client, _qr(AGE, unknown)))


@pytest.mark.parametrize("app_config", [{"TESTING": True, "max_body_bytes": 2_000_000}])
def test_a_ten_thousand_item_response_is_one_short_problem(client: FlaskClient) -> None:
    items = [{"linkId": f"x{i}"} for i in range(10_000)]
    response = _post(client, _qr(*items))
    errors = _errors(response)
    assert len(json.dumps(errors)) < 1000
    many_known = [AGE] * 10_000
    assert len(json.dumps(_errors(_post(client, _qr(*many_known))))) < 1000


def test_the_body_limit_holds(client: FlaskClient) -> None:
    items = [{"linkId": f"x{i}"} for i in range(10_000)]
    response = _post(client, _qr(*items))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_other_media_types_are_still_415(client: FlaskClient) -> None:
    response = client.post("/assess", data="{}", content_type="text/plain")
    assert response.status_code == 415
    assert response.headers["Accept-Post"] == "application/json, application/fhir+json"
