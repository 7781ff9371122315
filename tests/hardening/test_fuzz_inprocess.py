"""schemathesis from ``openapi.yaml`` against the app in-process, on every ``make test``.

Every operation gets positive and negative cases (bounded, with a fixed seed so a failure
reproduces) and every registered check (``--checks all``): no 500, every status and header
documented, every body valid against its schema, invalid input refused and valid input
accepted. A second pass runs with API keys configured, so the 401 paths are held to the spec
too and a protected operation answering without a key fails ``ignored_auth``.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from popcheck.app import create_app
from tests.hardening import schemathesis_hooks  # noqa: F401  (GET /openapi.yaml is text)
from tests.hardening.corpus import REPO

SEED = 20261125
# Per operation and mode. About 15 s for the whole spec on one core; raise it locally with
# more time to spare (the examples are deterministic, so the same seed finds the same cases).
MAX_EXAMPLES = 60
KEY = "hardening-fuzz-key"

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
# A QuestionnaireResponse's schema describes the FHIR resource, not which linkIds and answer
# types popcheck's Questionnaire has (nor that a linkId appears once): a schema-valid response
# to another form is 422 by design (tests/interop). The same holds for the answers a CDS
# Hooks call prefetches, and a call without them is 412 (CDS Hooks 2.0: data the service
# cannot get). Every other check holds for both.
_FHIR_CHECKS = [check for check in ALL_CHECKS if check.__name__ != "positive_data_acceptance"]
_CDS_SERVICE = "/cds-services/popcheck-back-triage"


def _checks(case: Any) -> list[Any]:
    if case.media_type == "application/fhir+json" or case.path == _CDS_SERVICE:
        return _FHIR_CHECKS
    return ALL_CHECKS


def _schema(config: dict[str, Any]) -> Any:
    schema = schemathesis.openapi.from_path(str(REPO / "openapi.yaml"))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        database="none",
        deterministic=True,
    )
    schema.config.seed = SEED
    schema.app = create_app({"TESTING": True, **config})
    return schema


open_schema = _schema({})
keyed_schema = _schema({"api_keys": [KEY]}).include(
    path_regex="^/(assess|rules|fhir/Questionnaire/popcheck-intake|cds-services/.+)$"
)

_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


class ClosingClient(FlaskClient):
    """A test client that buffers and closes every response it returns.

    schemathesis reads the body but never closes the response; for ``send_file`` answers
    (``/docs/*``) the open file then surfaces as a ResourceWarning, an error under
    ``filterwarnings = error``.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


def _client(schema: Any) -> ClosingClient:
    return ClosingClient(schema.app, schema.app.response_class)


@open_schema.parametrize()
@_SETTINGS
def test_open_service_conforms(case: Any) -> None:
    case.call_and_validate(session=_client(open_schema), checks=_checks(case))


@keyed_schema.parametrize()
@_SETTINGS
def test_keyed_service_conforms(case: Any) -> None:
    # With keys configured the generated cases carry the right key; ``ignored_auth`` then
    # also replays them without it and with a wrong one, and expects a documented 401.
    case.call_and_validate(
        session=_client(keyed_schema),
        checks=_checks(case),
        headers={"Authorization": f"Bearer {KEY}"},
    )
