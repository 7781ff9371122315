"""What ``make bench`` compares must stay comparable: every payload in its mix is a valid
request (a refused one would make the service look fast), its QuestionnaireResponse twin is
assessed exactly as the JSON request, and the bare app answers with exactly the bytes it is
told to."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask.testing import FlaskClient

from bench import _bare_app
from bench._payloads import examples, payload_mix, questionnaire_response_mix


def test_every_bench_payload_is_assessed(shared_client: FlaskClient) -> None:
    payloads = payload_mix()
    assert len(payloads) == 50
    assert len(set(payloads)) == len(payloads)
    for body in payloads:
        response = shared_client.post("/assess", data=body, content_type="application/json")
        assert response.status_code == 200, (body, response.get_data(as_text=True)[:300])


def test_the_mix_starts_with_the_personas_and_is_reproducible() -> None:
    personas = [json.dumps(doc, separators=(",", ":")).encode() for doc in examples()]
    assert payload_mix()[: len(personas)] == personas
    assert payload_mix() == payload_mix()


def test_each_questionnaire_response_is_assessed_as_its_json_twin(
    shared_client: FlaskClient,
) -> None:
    payloads = payload_mix()
    responses = questionnaire_response_mix(payloads)
    assert len(responses) == len(payloads)
    # Answers inside groups, and "none of them" ([] in JSON), both occur in the mix.
    items = [item for body in responses for item in json.loads(body)["item"]]
    assert any("item" in item for item in items)
    assert b'"code":"none"' in b"".join(responses)
    for body, resource in zip(payloads, responses, strict=True):
        QuestionnaireResponse.model_validate_json(resource)
        as_json = shared_client.post("/assess", data=body, content_type="application/json")
        as_fhir = shared_client.post("/assess", data=resource, content_type="application/fhir+json")
        assert as_fhir.status_code == 200, (resource, as_fhir.get_data(as_text=True)[:300])
        expected, got = as_json.get_json(), as_fhir.get_json()
        del expected["id"], got["id"]
        assert got == expected, body


@pytest.mark.parametrize("size", [10, 11, 4858])
def test_bare_app_answers_the_requested_size(size: int) -> None:
    client = _bare_app.create_app(size).test_client()
    response = client.post("/assess", data=b'{"age":40}', content_type="application/json")
    assert response.status_code == 200
    assert len(response.get_data()) == size
    json.loads(response.get_data())


def test_the_gunicorn_path_benchmark_runs_both_apps(capsys: pytest.CaptureFixture[str]) -> None:
    # It drives gunicorn's parser and response classes directly (pinned gunicorn), and
    # refuses to report when either app answers anything but 200.
    from bench import gunicorn_path

    gunicorn_path.main()
    out = capsys.readouterr().out
    assert "the service adds" in out
    assert {line.split()[0] for line in out.splitlines()[2:4]} == {"service", "bare"}
