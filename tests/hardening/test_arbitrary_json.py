"""Any JSON at all, and any JSON value in any request field: the answer is an assessment or a
precise 4xx problem, never a 500, and always the documented shape.

schemathesis generates from the schema; these generate from JSON itself (including lone
surrogates, which JSON escapes allow and hypothesis' default text leaves out), so shapes the
schema never suggests get sent too.
"""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popcheck.schemas import AssessmentSchema
from tests.hardening.corpus import PROBLEM_JSON, request_fields, with_value

# Every code point, surrogates included.
TEXT = st.text(st.characters(codec=None, categories=None), max_size=12)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
FIELD_PATHS = [leaf.path for leaf in request_fields()]

_SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(client: FlaskClient, document: Any, *, explain: bool = False) -> int:
    """Send ``document``; check the answer's shape; return its status."""
    path = "/assess?explain=true" if explain else "/assess"
    response = client.post(path, data=json.dumps(document), content_type="application/json")
    status = response.status_code
    assert status in (200, 400, 422), response.get_data(as_text=True)[:500]
    body = json.loads(response.get_data())
    if status == 200:
        AssessmentSchema().load(body)
        assert ("trace" in body) is explain
        return status
    assert response.mimetype == PROBLEM_JSON
    assert set(body) == (
        {"type", "title", "status", "detail"} | ({"errors"} if status == 422 else set())
    )
    if status == 422:
        errors = body["errors"]
        assert errors and all(
            isinstance(path, str) and messages and all(isinstance(m, str) for m in messages)
            for path, messages in errors.items()
        )
    return status


@_SETTINGS
@given(document=JSON_VALUES)
def test_any_json_document(shared_client: FlaskClient, document: Any) -> None:
    status = check(shared_client, document)
    if not isinstance(document, dict):
        assert status == 400


@_SETTINGS
@given(path=st.sampled_from(FIELD_PATHS), value=JSON_VALUES, explain=st.booleans())
def test_any_json_value_in_any_field(
    shared_client: FlaskClient, path: tuple[str, ...], value: Any, explain: bool
) -> None:
    # With explain, the traced evaluation (a separate code path in the engine) runs too.
    check(shared_client, with_value(path, value), explain=explain)


@_SETTINGS
@given(extra=st.dictionaries(TEXT, JSON_VALUES, min_size=1, max_size=3))
def test_unknown_keys_are_named(shared_client: FlaskClient, extra: dict[str, Any]) -> None:
    document = {"age": 40, **{f"x{key}": value for key, value in extra.items()}}
    response = shared_client.post(
        "/assess", data=json.dumps(document), content_type="application/json"
    )
    assert response.status_code == 422
    errors = json.loads(response.get_data())["errors"]
    assert {f"x{key}" for key in extra} <= set(errors)
