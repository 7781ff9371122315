"""The one error handler: every HTTP error werkzeug knows becomes problem+json."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from werkzeug.exceptions import default_exceptions
from werkzeug.http import HTTP_STATUS_CODES

from popcheck.api.errors import ValidationProblem
from tests.api.support import assert_problem

CODES = sorted(default_exceptions)


@pytest.mark.parametrize("code", CODES)
def test_every_http_error_is_problem_json(app: Flask, code: int) -> None:
    # As flask-smorest does: one test over every werkzeug.exceptions.default_exceptions code.
    @app.get("/boom")
    def boom() -> str:
        abort(code)

    response = app.test_client().get("/boom")
    detail = None
    if code >= 500:
        detail = "The server could not complete the request. The error has been logged."
    body = assert_problem(response, code, HTTP_STATUS_CODES[code], detail)
    if code < 500:
        assert body["detail"] == default_exceptions[code].description


def test_422_carries_errors(app: Flask) -> None:
    @app.get("/invalid")
    def invalid() -> str:
        raise ValidationProblem({"pain.level": ["Too high."]})

    assert_problem(
        app.test_client().get("/invalid"),
        422,
        "Unprocessable Entity",
        "The request body is well-formed JSON but fails validation; see errors.",
        {"pain.level": ["Too high."]},
    )


def test_405_keeps_allow(client: FlaskClient) -> None:
    response = client.put("/readyz")
    assert_problem(
        response, 405, "Method Not Allowed", "The method is not allowed for the requested URL."
    )
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/assess", "OPTIONS, POST"),
        ("/healthz", "GET, HEAD, OPTIONS"),
        ("/rules", "GET, HEAD, OPTIONS"),
        ("/openapi.yaml", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_is_204_with_allow_and_nothing_else(
    client: FlaskClient, path: str, allow: str
) -> None:
    response = client.options(path)
    assert response.status_code == 204
    # Exactly, sorted: werkzeug builds the list from a set, whose order follows the hash seed.
    assert response.headers["Allow"] == allow
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]


def test_options_on_an_unknown_path_is_404(client: FlaskClient) -> None:
    assert client.options("/no/such/thing").status_code == 404


def test_404_whole_body(client: FlaskClient) -> None:
    assert_problem(
        client.get("/no/such/thing"),
        404,
        "Not Found",
        "The requested URL was not found on the server. If you entered the URL manually please "
        "check your spelling and try again.",
    )


def test_unhandled_exception_is_logged_and_generic(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from popcheck.app import create_app

    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/crash")
    def crash() -> str:
        raise KeyError("internal-detail")

    response = app.test_client().get("/crash")
    body = assert_problem(
        response,
        500,
        "Internal Server Error",
        "The server could not complete the request. The error has been logged.",
    )
    assert "internal-detail" not in str(body)
    assert any(record.exc_info for record in caplog.records)
