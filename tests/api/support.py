"""Helpers for the API tests: problem+json assertions and requests built once, sent once,
and kept intact for openapi-core (the test client's ``response.request`` has a consumed body).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi.yaml"

PROBLEM_JSON = "application/problem+json"


def send(client: FlaskClient, **request: Any) -> tuple[Request, TestResponse]:
    """Send one request built from ``EnvironBuilder`` arguments; return an unread copy of
    the request (for openapi-core) with the response."""
    response = client.open(**request)
    # Buffer the body, then release what produced it (send_file keeps a file open).
    response.get_data()
    response.close()
    return EnvironBuilder(**request).get_request(), response


def problem(response: TestResponse) -> dict[str, Any]:
    """The problem document of ``response``, after checking it is one."""
    assert response.mimetype == PROBLEM_JSON, response.get_data(as_text=True)
    body = json.loads(response.get_data(as_text=True))
    assert isinstance(body, dict)
    assert body["status"] == response.status_code
    return body


def assert_problem(
    response: TestResponse,
    status: int,
    title: str,
    detail: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """``response`` is exactly the RFC 9457 document for ``status`` (whole body when
    ``detail`` is given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = problem(response)
    assert body["type"] == "about:blank"
    assert body["title"] == title
    assert isinstance(body["detail"], str) and body["detail"]
    if detail is not None:
        expected: dict[str, Any] = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
        }
        if errors is not None:
            expected["errors"] = dict(errors)
        assert body == expected
    elif errors is not None:
        assert body["errors"] == dict(errors)
    else:
        assert "errors" not in body
    return body
