"""Bodies that are not what a JSON API expects: each gets a precise 4xx, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from popcheck.jsontext import MalformedJson, _parse_strictly, parse_json_object
from tests.api.support import assert_problem


def post(
    client: FlaskClient, body: bytes | str, content_type: str = "application/json"
) -> TestResponse:
    return client.post("/assess", data=body, content_type=content_type)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("", "The body is empty; send a JSON object."),
        ("   ", "The body is empty; send a JSON object."),
        ('{"age": 40', "The body is not valid JSON: Expecting ',' delimiter (line 1, column 11)."),
        (
            "{'age': 40}",
            "The body is not valid JSON: Expecting property name enclosed in double "
            "quotes (line 1, column 2).",
        ),
        ('{"age": NaN}', "The body is not valid JSON: NaN is not a JSON number."),
        ('{"age": Infinity}', "The body is not valid JSON: Infinity is not a JSON number."),
        ('{"age": -Infinity}', "The body is not valid JSON: -Infinity is not a JSON number."),
        ('{"age": 40, "age": 41}', "The body is not valid: an object repeats the key 'age'."),
        (
            '{"age": 40, "pain": {"level": 1, "level": 2}}',
            "The body is not valid: an object repeats the key 'level'.",
        ),
        ("[]", "The body must be a JSON object."),
        ('"age"', "The body must be a JSON object."),
        ("null", "The body must be a JSON object."),
        (
            "\ufeff{}",
            "The body starts with a byte order mark (BOM); send JSON as UTF-8 without one.",
        ),
        (
            '\ufeff{"age": 40}',
            "The body starts with a byte order mark (BOM); send JSON as UTF-8 without one.",
        ),
        ('{"age": 1' + "0" * 5000 + "}", "The body contains a number too long to represent."),
    ],
)
def test_400_with_a_useful_detail(client: FlaskClient, body: str, detail: str) -> None:
    assert_problem(post(client, body), 400, "Bad Request", detail)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_400_not_a_crash(client: FlaskClient, opener: str) -> None:
    depth = 10_000
    closer = "]" if opener == "[" else "}"
    body = opener * depth + ("1" if opener != "[" else "") + closer * depth
    assert_problem(
        post(client, body), 400, "Bad Request", "The body is nested too deeply to be a request."
    )


def test_invalid_utf8_is_400(client: FlaskClient) -> None:
    assert_problem(
        post(client, b'{"age": "\xff"}'), 400, "Bad Request", "The body is not valid UTF-8."
    )


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"age": 1e309}', "age"),
        ('{"age": 18446744073709551616}', "age"),
        (
            '{"age": 40, "lifestyle": {"sitting_hours_per_day": -1e309}}',
            "lifestyle.sitting_hours_per_day",
        ),
        ('{"age": 40, "\\ud800": 1}', "\ud800"),
        ('{"age": 40, "onset": "\\ud800"}', "onset"),
    ],
)
def test_valid_json_with_odd_values_is_422(client: FlaskClient, body: str, path: str) -> None:
    response = post(client, body)
    assert response.status_code == 422
    assert path in response.get_json()["errors"]


@pytest.mark.parametrize("value", ["-0", "-0.0", "4.0"])
def test_negative_zero_and_integral_floats_are_numbers(client: FlaskClient, value: str) -> None:
    response = post(client, '{"age": 40, "pain": {"level": ' + value + "}}")
    assert response.status_code == 200, response.get_data(as_text=True)


def test_unicode_keys_and_text_are_handled(client: FlaskClient) -> None:
    response = post(client, '{"age": 40, "ünïcødé": "🙂"}'.encode())
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"ünïcødé": ["Unknown field."]}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json; charset=utf8",
        "Application/JSON",
    ],
)
def test_json_content_type_variants_are_accepted(client: FlaskClient, content_type: str) -> None:
    assert post(client, '{"age": 40}', content_type).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/problem+json", "text/json"],
)
def test_other_content_types_are_415(client: FlaskClient, content_type: str) -> None:
    assert_problem(
        post(client, '{"age": 40}', content_type),
        415,
        "Unsupported Media Type",
        (
            "Send the body as JSON with 'Content-Type: application/json', or a FHIR "
            "QuestionnaireResponse with 'Content-Type: application/fhir+json'."
        ),
    )


@pytest.mark.parametrize("media_type", ["application/json", "application/fhir+json"])
@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", "utf-16", "us-ascii"])
def test_json_in_another_charset_is_415(client: FlaskClient, media_type: str, charset: str) -> None:
    # Both request media types are read as UTF-8, so a body declared otherwise is refused
    # before it is read (a QuestionnaireResponse too, though it is parsed elsewhere).
    response = post(client, '{"age": 40}', f"{media_type}; charset={charset}")
    assert_problem(
        response,
        415,
        "Unsupported Media Type",
        f"The body must be UTF-8 JSON, but 'Content-Type' says charset={charset}; "
        "send UTF-8 with 'Content-Type: application/json' or 'application/fhir+json' "
        "(charset=utf-8 may be added).",
    )
    assert response.headers["Accept-Post"] == "application/json, application/fhir+json"


@pytest.mark.parametrize("value", ["1", "yes", "", "TRUE "])
def test_explain_must_be_true_or_false(client: FlaskClient, value: str) -> None:
    response = client.post(f"/assess?explain={value}", json={"age": 40})
    assert_problem(
        response, 400, "Bad Request", "The query parameter 'explain' must be 'true' or 'false'."
    )


@pytest.mark.parametrize(("value", "traced"), [("true", True), ("false", False), ("True", True)])
def test_explain_adds_trace(client: FlaskClient, value: str, traced: bool) -> None:
    response = client.post(f"/assess?explain={value}", json={"age": 40})
    assert response.status_code == 200
    assert ("trace" in response.get_json()) is traced
    assert "trace" not in client.post("/assess", json={"age": 40}).get_json()


def test_a_bad_request_does_not_disturb_the_next(client: FlaskClient) -> None:
    for body in ("[" * 10_000, '{"age": NaN}', "x" * 70_000):
        assert post(client, body).status_code in {400, 413}
    assert post(client, '{"age": 40}').status_code == 200


# JSON text built token by token, so that it can hold what a dumper never writes: repeated
# keys, integers beyond 64 bits, escapes, colons inside strings, odd whitespace.
_SPACE = st.sampled_from(["", " ", "\n", "\t ", "\r\n"])
_SCALAR_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["true", "false", "null", "-0", "1e400", "-1e400", "2.58e-42", "1E2"]),
    st.text(max_size=6).map(lambda text: json.dumps(text, ensure_ascii=False)),
    st.text(max_size=6).map(json.dumps),
    st.sampled_from(['"a:b"', '"\\u003a"', '"\\ud800"', '"\\"', '"\\u0000"', "NaN"]),
)
_KEYS = st.sampled_from(['"a"', '"b"', '"age"', '"a:"', '"\\u0061"', '"ü"'])


def _object_text(pairs: list[tuple[str, str]], space: str) -> str:
    return "{" + ",".join(f"{space}{key}{space}:{space}{value}" for key, value in pairs) + "}"


_JSON_TEXT = st.recursive(
    _SCALAR_TEXT,
    lambda inner: st.one_of(
        st.builds(
            lambda items, space: "[" + f",{space}".join(items) + "]",
            st.lists(inner, max_size=4),
            _SPACE,
        ),
        st.builds(_object_text, st.lists(st.tuples(_KEYS, inner), max_size=4), _SPACE),
    ),
    max_leaves=12,
)


def _outcome(parse: Any, data: bytes) -> str:
    """What a parse gives, comparable across parsers: the document's repr (which tells 1 from
    1.0 and -0.0 from 0, and shows key order) or the 400's message."""
    try:
        return "ok " + repr(parse(data))
    except MalformedJson as exc:
        return f"400 {exc}"


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON_TEXT, _SPACE, _SPACE)
def test_the_quick_parse_answers_as_the_strict_one(text: str, before: str, after: str) -> None:
    data = (before + text + after).encode("utf-8", "surrogatepass")
    assert _outcome(parse_json_object, data) == _outcome(_parse_strictly, data)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": {"b": 1, "b": 1}}',
        '{"a": [{"b": 1}, {"c": 2, "c": 2}]}',
        '{"a": "x:y", "a": 1}',
        '{"a": 18446744073709551616}',
        '{"a": [-9223372036854775809]}',
        '{"a": 18446744073709551615, "b": -9223372036854775808}',
        '{"a": ' + "[" * 70 + "]" * 70 + "}",
        '{"a": 1e400}',
        '{"\\u0061": 1, "a": 2}',
    ],
)
def test_the_quick_parse_steps_aside_where_orjson_differs(text: str) -> None:
    data = text.encode()
    assert _outcome(parse_json_object, data) == _outcome(_parse_strictly, data)
