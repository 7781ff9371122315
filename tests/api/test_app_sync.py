"""The app skips Flask's per-call async check only for the functions it registered itself."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response

from popcheck.app import PopcheckFlask, create_app


def test_every_registered_function_is_known_sync() -> None:
    app = create_app({"TESTING": True})
    assert isinstance(app, PopcheckFlask)
    registered = list(app._registered_functions())
    assert len(registered) >= 10
    for func in registered:
        assert app.ensure_sync(func) is func


def test_functions_added_later_still_get_flask_s_check() -> None:
    app = create_app({"TESTING": True})

    async def late() -> None:
        return None

    # Flask wraps (or, without its async extra, refuses) a coroutine function.
    try:
        wrapped: Any = app.ensure_sync(late)
    except RuntimeError:
        return
    assert wrapped is not late


def test_a_hook_added_after_create_app_runs(app: Flask) -> None:
    def tag(response: Response) -> Response:
        response.headers["X-Late"] = "yes"
        return response

    app.after_request(tag)
    assert app.test_client().get("/healthz").headers["X-Late"] == "yes"


@pytest.mark.parametrize("path", ["/healthz", "/rules", "/nowhere"])
def test_answers_are_unchanged(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code in {200, 404}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
