"""CDS Hooks 2.0: discovery, the patient-view service, feedback, and client JWTs."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient

from popcheck.api.cds import CLOCK_CONFIG
from popcheck.app import create_app
from popcheck.cds import age_on
from popcheck.schemas.cds import CdsResponseSchema, CdsServicesSchema

SERVICE = "/cds-services/popcheck-back-triage"
QUESTIONNAIRE = "https://popcheck.example/fhir/Questionnaire/popcheck-intake"
TODAY = dt.date(2026, 1, 5)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TESTING": True, CLOCK_CONFIG: lambda: TODAY}


def _qr(*items: dict[str, Any], authored: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE,
        "status": "completed",
        "item": list(items),
    }
    if authored is not None:
        resource["authored"] = authored
    return resource


def _group(name: str, **answers: Any) -> dict[str, Any]:
    key = {bool: "valueBoolean", int: "valueInteger"}
    return {
        "linkId": name,
        "item": [
            {"linkId": f"{name}.{field}", "answer": [{key[type(value)]: value}]}
            for field, value in answers.items()
        ],
    }


SADDLE = _group("neuro", saddle_numbness=True)
CALM = _group("neuro", saddle_numbness=False, bladder_or_bowel_change=False, leg_weakness=False)


def _call(intake: Any = None, patient: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://ehr.example/fhir",
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
        "prefetch": {
            "patient": patient
            if patient is not None
            else {"resourceType": "Patient", "id": "p1", "birthDate": "1972-03-14"},
            "intake": intake if intake is not None else _qr(SADDLE),
        },
    }
    return body


def _cards(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    CdsResponseSchema().load(body)
    cards: list[dict[str, Any]] = body["cards"]
    return cards


def test_discovery(client: FlaskClient) -> None:
    body = client.get("/cds-services").get_json()
    CdsServicesSchema().load(body)
    (service,) = body["services"]
    assert service["id"] == "popcheck-back-triage"
    assert service["hook"] == "patient-view"
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert service["prefetch"]["intake"] == (
        "QuestionnaireResponse?subject={{context.patientId}}"
        f"&questionnaire={QUESTIONNAIRE}&_sort=-authored&_count=1"
    )


def test_an_emergency_is_one_critical_card(client: FlaskClient) -> None:
    (card,) = _cards(client.post(SERVICE, json=_call()))
    assert card["indicator"] == "critical"
    assert len(card["summary"]) < 140
    assert "red flag" in card["summary"]
    assert "**Red flags**" in card["detail"] and "**Why**" in card["detail"]
    assert card["source"]["label"].startswith("popcheck ruleset popcheck-core ")
    uuid.UUID(card["uuid"])


def test_the_card_says_what_assess_says(client: FlaskClient) -> None:
    age = {"linkId": "age", "answer": [{"valueInteger": 30}]}
    (card,) = _cards(client.post(SERVICE, json=_call(_qr(age, CALM))))
    level = client.post(
        "/assess",
        json={
            "age": 30,
            "neuro": {
                "saddle_numbness": False,
                "bladder_or_bowel_change": False,
                "leg_weakness": False,
            },
        },
    ).get_json()["urgency"]["level"]
    indicator = {
        "emergency": "critical",
        "urgent": "critical",
        "soon": "warning",
        "routine": "warning",
        "self_care": "info",
    }[level]
    assert card["indicator"] == indicator


def test_age_comes_from_birth_date_with_the_injected_clock() -> None:
    assert age_on("1972-03-14", TODAY) == 53
    assert age_on("1972-01-05", TODAY) == 54
    assert age_on("1972", TODAY) == 54  # 1 January: the oldest the patient can be
    assert age_on("1972-13", TODAY) is None
    assert age_on("2030-01-01", TODAY) is None
    assert age_on(None, TODAY) is None


def test_a_child_gets_no_cards(client: FlaskClient) -> None:
    patient = {"resourceType": "Patient", "birthDate": "2015-06-01"}
    assert _cards(client.post(SERVICE, json=_call(patient=patient))) == []


def test_the_newest_response_in_a_bundle_is_used(client: FlaskClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": _qr(CALM, authored="2025-12-01T10:00:00Z")},
            {"resource": _qr(SADDLE, authored="2026-01-04T10:00:00Z")},
        ],
    }
    (card,) = _cards(client.post(SERVICE, json=_call(bundle)))
    assert card["indicator"] == "critical"


@pytest.mark.parametrize(
    "intake", [None, {"resourceType": "Bundle", "type": "searchset", "total": 0}, _qr()]
)
def test_no_answers_no_cards(client: FlaskClient, intake: Any) -> None:
    body = _call()
    body["prefetch"]["intake"] = intake
    assert _cards(client.post(SERVICE, json=body)) == []


def test_missing_prefetch_is_412(client: FlaskClient) -> None:
    without_intake = _call()
    del without_intake["prefetch"]["intake"]
    response = client.post(SERVICE, json=without_intake)
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    no_prefetch = _call()
    del no_prefetch["prefetch"]
    assert client.post(SERVICE, json=no_prefetch).status_code == 412
    without_patient = _call()
    del without_patient["prefetch"]["patient"]
    assert client.post(SERVICE, json=without_patient).status_code == 412
    with_age = _call(_qr({"linkId": "age", "answer": [{"valueInteger": 40}]}, SADDLE))
    del with_age["prefetch"]["patient"]
    assert len(_cards(client.post(SERVICE, json=with_age))) == 1


def test_bad_answers_are_422_by_link_id(client: FlaskClient) -> None:
    response = client.post(SERVICE, json=_call(_qr({"linkId": "nope"})))
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["nope"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(hook="order-sign"),
        lambda b: b.pop("hookInstance"),
        lambda b: b.update(context={}),
        lambda b: b.update(prefetch=[]),
    ],
)
def test_a_malformed_call_is_422(client: FlaskClient, mutate: Any) -> None:
    body = _call()
    mutate(body)
    response = client.post(SERVICE, json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("data", ["{", "[]", '{"hook": NaN}'])
def test_malformed_json_is_400(client: FlaskClient, data: str) -> None:
    response = client.post(SERVICE, data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "app_config",
    [{"TESTING": True, "max_body_bytes": 2_000_000, CLOCK_CONFIG: lambda: TODAY}],
)
def test_a_ten_thousand_item_response_is_a_short_problem(client: FlaskClient) -> None:
    intake = _qr(*[{"linkId": f"x{i}"} for i in range(10_000)])
    response = client.post(SERVICE, json=_call(intake))
    assert response.status_code == 422
    assert len(response.get_data()) < 1500


def test_feedback_is_counted(client: FlaskClient) -> None:
    def count(outcome: str) -> float:
        for line in client.get("/metrics").get_data(as_text=True).splitlines():
            if line.startswith(f'popcheck_cds_feedback_total{{outcome="{outcome}"}}'):
                return float(line.split()[-1])
        return 0.0

    before = count("accepted"), count("overridden")
    feedback = {
        "feedback": [
            {
                "card": str(uuid.uuid4()),
                "outcome": "accepted",
                "outcomeTimestamp": "2026-01-05T10:00:00Z",
            },
            {
                "card": str(uuid.uuid4()),
                "outcome": "overridden",
                "overrideReason": {"reason": {"code": "x"}},
            },
            {"card": str(uuid.uuid4()), "outcome": "accepted"},
        ]
    }
    response = client.post(f"{SERVICE}/feedback", json=feedback)
    assert response.status_code == 200
    assert response.get_json() == {"received": 3}
    assert (count("accepted"), count("overridden")) == (before[0] + 2, before[1] + 1)


@pytest.mark.parametrize(
    "body",
    [
        {"feedback": [{"card": "x", "outcome": "ignored"}]},
        {"feedback": []},
        {"feedback": [{"card": "x", "outcome": "accepted"}] * 101},
        {},
    ],
)
def test_bad_feedback_is_422(client: FlaskClient, body: Any) -> None:
    assert client.post(f"{SERVICE}/feedback", json=body).status_code == 422


# ---------------------------------------------------------------- JWTs


@pytest.fixture
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def jwt_client(tmp_path: Path, signing_key: ec.EllipticCurvePrivateKey) -> FlaskClient:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid="ehr-1", use="sig", alg="ES384")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    app = create_app(
        {
            "TESTING": True,
            CLOCK_CONFIG: lambda: TODAY,
            "cds_jwks_file": str(jwks),
            "cds_issuers": ["https://ehr.example"],
            "api_keys": ["app-key"],
        }
    )
    return app.test_client()


def _claims(**claims: Any) -> dict[str, Any]:
    """A CDS client's claims, valid for the service call, with ``claims`` on top."""
    now = int(time.time())
    return {
        "iss": "https://ehr.example",
        "aud": f"http://localhost{SERVICE}",
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
        **claims,
    }


def _token(key: Any, **claims: Any) -> str:
    return jwt.encode(_claims(**claims), key, algorithm="ES384", headers={"kid": "ehr-1"})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_jwt_is_accepted(jwt_client: FlaskClient, signing_key: Any) -> None:
    response = jwt_client.post(SERVICE, json=_call(), headers=_bearer(_token(signing_key)))
    assert len(_cards(response)) == 1
    feedback = {"feedback": [{"card": "x", "outcome": "accepted"}]}
    token = _token(signing_key, aud=f"http://localhost{SERVICE}/feedback")
    assert (
        jwt_client.post(f"{SERVICE}/feedback", json=feedback, headers=_bearer(token)).status_code
        == 200
    )


def _unsigned(**claims: Any) -> str:
    import base64

    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(_claims(**claims))}."


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda key: {},
        lambda key: _bearer("not-a-jwt"),
        lambda key: _bearer("app-key"),
        lambda key: _bearer(_unsigned()),
        lambda key: _bearer(jwt.encode({"iss": "https://ehr.example"}, "s" * 32, "HS256")),
        lambda key: _bearer(_token(key, iss="https://evil.example")),
        lambda key: _bearer(_token(key, aud="https://elsewhere.example/cds-services/x")),
        lambda key: _bearer(_token(key, exp=int(time.time()) - 3600)),
        lambda key: _bearer(_token(ec.generate_private_key(ec.SECP384R1()))),
    ],
    ids=[
        "none",
        "garbage",
        "api-key",
        "alg-none",
        "hs256",
        "issuer",
        "audience",
        "expired",
        "other-key",
    ],
)
def test_bad_tokens_are_401(jwt_client: FlaskClient, signing_key: Any, make_headers: Any) -> None:
    response = jwt_client.post(SERVICE, json=_call(), headers=make_headers(signing_key))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Cache-Control"] == "no-store"


def test_with_jwts_on_the_api_keys_still_guard_the_api(jwt_client: FlaskClient) -> None:
    assert jwt_client.get("/cds-services").status_code == 200
    assert jwt_client.post("/assess", json={"age": 40}).status_code == 401
    ok = jwt_client.post("/assess", json={"age": 40}, headers=_bearer("app-key"))
    assert ok.status_code == 200


def test_without_jwts_the_api_keys_guard_the_service() -> None:
    client = create_app({"TESTING": True, "api_keys": ["k"]}).test_client()
    assert client.post(SERVICE, json=_call()).status_code == 401
    assert client.post(SERVICE, json=_call(), headers=_bearer("k")).status_code == 200


def test_a_jwks_file_needs_issuers(tmp_path: Path) -> None:
    from popcheck.config import ConfigError

    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    with pytest.raises(ConfigError):
        create_app({"cds_jwks_file": str(jwks)})
    with pytest.raises(ConfigError):
        create_app({"cds_jwks_file": str(jwks), "cds_issuers": ["x"]})


def test_nothing_of_the_body_is_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    call = _call()
    call["context"]["patientId"] = "patient-secret-id-123"
    with caplog.at_level("DEBUG"):
        client.post(SERVICE, json=copy.deepcopy(call))
        client.post(SERVICE, json={"hook": "patient-secret-id-123"})
    assert "patient-secret-id-123" not in caplog.text
