"""``examples/``: every persona runs through the app and gives what its note promises, and
every place that quotes the examples (openapi.yaml, examples/README.md, README.md) agrees
with the files, so the docs cannot drift from the behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from tests.docs.examples_support import (
    EXAMPLES_DIR,
    EXPECT_KEYS,
    README,
    ROOT,
    CurlExample,
    example_names,
    expectation_problems,
    jq_lines,
    load_example,
    openapi_examples,
    readme_curl_examples,
)

NAMES = example_names()
PERSONAS = {"just_popped", "desk_worker", "tight_hips", "sciatica", "red_flag_emergency"}


def test_every_persona_has_an_example() -> None:
    assert PERSONAS <= set(NAMES)


def test_every_example_has_an_expectation_and_no_orphans() -> None:
    requests = {p.stem for p in EXAMPLES_DIR.glob("*.json")}
    expectations = {p.name.removesuffix(".expect.yaml") for p in EXAMPLES_DIR.glob("*.expect.yaml")}
    assert requests == expectations


@pytest.mark.parametrize("name", NAMES)
def test_expectation_file_shape(name: str) -> None:
    expect = load_example(name).expect
    assert set(expect) == EXPECT_KEYS
    assert isinstance(expect["summary"], str) and expect["summary"]
    assert isinstance(expect["note"], str) and expect["note"]
    for key in ("red_flags", "causes", "recommendations", "not_recommended"):
        assert isinstance(expect[key], list), key
    overlap = set(expect["recommendations"]) & set(expect["not_recommended"])
    assert not overlap


def _documented_answers() -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    ok = spec["paths"]["/assess"]["post"]["responses"]["200"]["content"]["application/json"]
    examples: dict[str, Any] = ok["examples"]
    return examples


def test_every_request_example_has_a_documented_answer() -> None:
    assert list(_documented_answers()) == list(openapi_examples())


@pytest.mark.parametrize("name", NAMES)
def test_documented_answer_is_what_the_service_answers(client: FlaskClient, name: str) -> None:
    """openapi.yaml's 200 example for a persona (what /docs shows) is the service's real
    answer to examples/<name>.json, all but ``id``; make spec writes it from the rules."""
    response = client.post("/assess", json=load_example(name).request)
    assert response.status_code == 200, response.get_data(as_text=True)
    real = response.get_json()
    documented = dict(_documented_answers()[name]["value"])
    assert documented.pop("id") and real.pop("id")
    assert documented == real, "openapi.yaml's answer examples are stale: run make spec"


@pytest.mark.parametrize("name", NAMES)
def test_example_gives_what_its_note_promises(client: FlaskClient, name: str) -> None:
    example = load_example(name)
    response = client.post("/assess", json=example.request)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert expectation_problems(response.get_json(), example.expect) == []


def test_expectation_check_can_fail(client: FlaskClient) -> None:
    # Guard against a checker that passes everything: the emergency body does not meet the
    # self-care persona's expectation.
    emergency = load_example("red_flag_emergency")
    response = client.post("/assess", json=emergency.request)
    problems = expectation_problems(response.get_json(), load_example("just_popped").expect)
    assert any("urgency" in p for p in problems)


# openapi.yaml ---------------------------------------------------------------------------


def test_openapi_examples_are_the_files() -> None:
    examples = openapi_examples()
    assert list(examples) and set(examples) == set(NAMES), (
        "POST /assess requestBody examples in openapi.yaml must be exactly examples/*.json"
    )
    for name, entry in examples.items():
        example = load_example(name)
        assert entry["value"] == example.request, f"openapi example {name!r} differs from the file"
        assert entry["summary"] == example.expect["summary"], name
        assert entry.get("description", "").strip() == example.expect["note"].strip(), name


def test_openapi_example_order_is_the_readme_order() -> None:
    # The docs page preselects the first example; both documents present the same sequence.
    table = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \[`([a-z_]+)\.json`\]", table, flags=re.MULTILINE)
    assert listed == list(openapi_examples())


@pytest.mark.parametrize("name", NAMES)
def test_examples_readme_row_states_the_expected_urgency(name: str) -> None:
    table = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    row = next((line for line in table.splitlines() if line.startswith(f"| [`{name}.json`]")), None)
    assert row is not None, f"examples/README.md has no row for {name}.json"
    expect_cell = row.rstrip("|").rsplit("|", 1)[1]
    assert expect_cell.strip().startswith(f"`{load_example(name).expect['urgency']}`")


# README.md curl commands ------------------------------------------------------------------


def _readme_examples() -> list[CurlExample]:
    if not README.exists():
        return []
    return list(readme_curl_examples(README.read_text(encoding="utf-8")))


def test_readme_shows_curl_examples_from_the_files() -> None:
    examples = _readme_examples()
    assert examples, "README.md should show `$ curl ...` examples in a console block"
    posted = {e.body_file for e in examples if e.body_file}
    assert posted, "README.md curl examples should post files from examples/"


def _curl_id(curl: CurlExample) -> str:
    body = Path(curl.body_file).stem if curl.body_file else "inline"
    return f"{body} | jq {curl.jq_filter}" if curl.jq_filter else body


@pytest.mark.parametrize("curl", _readme_examples(), ids=_curl_id)
def test_readme_curl_example_runs_as_shown(client: FlaskClient, curl: CurlExample) -> None:
    if curl.body_file is not None:
        source = (ROOT / curl.body_file).resolve()
        assert source.parent == EXAMPLES_DIR, f"{curl.body_file} is not a file in examples/"
        body = source.read_text(encoding="utf-8")
    else:
        body = curl.body_inline or ""
        if body:
            # An inline body must be one of the files, word for word in meaning.
            document = json.loads(body)
            assert any(load_example(n).request == document for n in NAMES), curl.line
    response = client.open(curl.path, method=curl.method, data=body, headers=curl.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    if curl.jq_filter is not None:
        printed = "\n".join(jq_lines(response.get_json(), curl.jq_filter))
        assert printed == "\n".join(curl.shown_output).strip(), curl.line
    if curl.body_file is not None and curl.path.startswith("/assess"):
        name = Path(curl.body_file).stem
        assert expectation_problems(response.get_json(), load_example(name).expect) == []
