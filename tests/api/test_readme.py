"""README.md: the example request runs as shown and answers with the shape shown; the
commands and settings it documents are the real ones."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from flask.testing import FlaskClient

from service.config import _ENV as SETTINGS_ENV
from tests.api.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

# The first curl that posts a file to /assess, then the ```json block that shows its response.
_EXAMPLE = re.compile(
    r"```console\n\$ (curl [^\n]*/assess[^\n]*-d @(?P<file>\S+))\n```"
    r"(?P<between>.*?)```json\n(?P<response>.*?)```",
    re.DOTALL,
)


def _example() -> tuple[list[str], str, Any]:
    match = _EXAMPLE.search(README)
    assert match is not None, "README.md must show a curl POST to /assess and its JSON response"
    assert "```" not in match.group("between"), "the response must follow the curl directly"
    return shlex.split(match.group(1)), match.group("file"), json.loads(match.group("response"))


def _shape(value: Any) -> Any:
    """Keys and JSON types, recursively; every item of a list has the first item's shape."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _ids(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "urgency": body["urgency"]["level"],
        "red_flags": [flag["id"] for flag in body["red_flags"]],
        "causes": [cause["id"] for cause in body["causes"]],
        "recommendations": [rec["id"] for rec in body["recommendations"]],
        "questions": [question["field"] for question in body["questions"]],
    }


def test_readme_example_request_gives_the_response_shown(client: FlaskClient) -> None:
    words, body_file, shown = _example()
    assert "Content-Type: application/json" in words
    response = client.post(
        "/assess", data=(ROOT / body_file).read_bytes(), content_type="application/json"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    real = response.get_json()
    assert _shape(real) == _shape(shown)
    assert _ids(real) == _ids(shown), (
        "README.md shows another answer than the service now gives: run its curl example "
        "(make run) and paste the new response, pretty-printed, into the json block"
    )
    assert real["ruleset"]["name"] == shown["ruleset"]["name"]


def test_shape_check_can_fail() -> None:
    assert _shape({"a": [1, 2]}) != _shape({"a": [{"b": 1}]})
    assert _shape({"a": None}) != _shape({"a": "x"})
    assert _shape({"a": 1}) != _shape({"b": 1})


def test_readme_puts_the_two_commands_near_the_top() -> None:
    head = "\n".join(README.splitlines()[:40])
    assert "make run" in head and "make test" in head


def test_readme_documents_every_setting() -> None:
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.MULTILINE))
    assert rows >= {"PORT", "WORKERS", *SETTINGS_ENV}
    assert "| `POPCHECK_MAX_BODY_BYTES` | `65536` |" in README


def test_readme_lists_every_endpoint(client: FlaskClient) -> None:
    for path in ("/assess", "/rules", "/healthz", "/livez", "/readyz", "/metrics", "/openapi.yaml"):
        assert f"`{path}`" in README, path
