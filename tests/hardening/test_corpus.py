"""The hostile-input corpus through the app in-process: each case gets exactly its status and
problem document, and nothing is ever a 500."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.hardening.corpus import JSON, PROBLEM_JSON, Hostile, corpus, request_fields

CASES = corpus()


def send(client: FlaskClient, case: Hostile) -> tuple[int, str, dict[str, str], bytes]:
    """Status, media type, headers and body of ``case`` sent through the test client."""
    headers = dict(case.headers)
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    response = client.open(case.path, method=case.method, data=case.body, headers=headers)
    return response.status_code, response.mimetype, dict(response.headers), response.get_data()


def check_answer(
    case: Hostile,
    status: int,
    mimetype: str,
    headers: dict[str, str],
    body: bytes,
    server: str | None = None,
) -> None:
    """The one oracle both transports use; ``server`` is the ``Server`` header expected (the
    app sets none; gunicorn writes its own name, and no setting turns that off)."""
    assert status == case.status, body[:500]
    # Every answer the app writes, error or not, carries the security headers and an id;
    # anything answered by the assess view (not 404 or 405, which are decided before a view
    # is chosen) is health data and never cached.
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", "")
    assert 0 < len(headers.get("X-Request-ID", "")) <= 128
    assert headers.get("Server") == server
    if case.status not in (404, 405):
        assert headers.get("Cache-Control") == "no-store"
    if case.status == 200:
        assert mimetype == JSON
        document = json.loads(body)
        assert {"id", "urgency", "ruleset"} <= set(document)
        return
    assert mimetype == PROBLEM_JSON, body[:500]
    assert json.loads(body) == case.problem()
    if case.status == 405:
        allowed = {method.strip() for method in headers["Allow"].split(",")}
        assert allowed == {"OPTIONS", "POST"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_request_gets_its_exact_answer(shared_client: FlaskClient, case: Hostile) -> None:
    check_answer(case, *send(shared_client, case))


def test_the_corpus_covers_every_request_field() -> None:
    # A field added to openapi.yaml is fuzzed without editing the corpus; this guards the
    # walk itself (a spec refactor that hid fields from it would silently shrink the corpus).
    paths = {leaf.dotted for leaf in request_fields()}
    assert {"age", "pain.level", "muscles.tight", "history.recent_trauma"} <= paths
    assert len(paths) >= 45
    typed = {case.id.split("-")[1] for case in CASES if case.id.startswith("type-")}
    assert typed == paths


def test_nothing_in_the_corpus_is_a_server_error(shared_client: FlaskClient) -> None:
    # The same corpus again in one loop, after all of it has been sent once: a case that
    # leaves state behind (a half-read stream, a poisoned cache) would show up here.
    failures = [case.id for case in CASES if send(shared_client, case)[0] >= 500]
    assert failures == []
    assert shared_client.post("/assess", json={"age": 40}).status_code == 200
