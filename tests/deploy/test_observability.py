"""Observability in-process (no real gunicorn): metric labels, assessment counters, the JSON
formatter and the gunicorn logging config. The real-process behaviour is in the slow tests."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from popcheck.observability import metrics
from popcheck.observability.jsonlog import AccessLogger, JsonFormatter, gunicorn_logconfig
from tests.deploy.harness import ASSESS_BODY


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _series(name: str) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == name
    ]


def test_unmatched_paths_share_one_route_label(client: FlaskClient) -> None:
    before = _value("popcheck_http_requests_total", method="GET", route="<unmatched>", status="404")
    for index in range(25):
        assert client.get(f"/scan/{index}/wp-login.php").status_code == 404
    after = _value("popcheck_http_requests_total", method="GET", route="<unmatched>", status="404")
    assert after - before == 25
    routes = {labels["route"] for labels in _series("popcheck_http_requests_total")}
    assert not any(route.startswith("/scan/") for route in routes)


def test_invented_methods_share_one_method_label(client: FlaskClient) -> None:
    labels = {"method": "OTHER", "route": "/assess", "status": "405"}
    before = _value("popcheck_http_requests_total", **labels)
    for index in range(5):
        assert client.open("/assess", method=f"BREW{index}").status_code == 405
    assert _value("popcheck_http_requests_total", **labels) - before == 5
    methods = {series["method"] for series in _series("popcheck_http_requests_total")}
    assert not any(method.startswith("BREW") for method in methods)


def test_a_wrong_method_is_labelled_with_the_route_it_misused(client: FlaskClient) -> None:
    """A 405 matched a path (only the method was wrong): its series names that route."""
    labels = {"method": "GET", "route": "/assess", "status": "405"}
    before = _value("popcheck_http_requests_total", **labels)
    assert client.get("/assess").status_code == 405
    assert client.delete("/rules").status_code == 405
    assert _value("popcheck_http_requests_total", **labels) - before == 1
    deleted = {"method": "DELETE", "route": "/rules", "status": "405"}
    assert _value("popcheck_http_requests_total", **deleted) >= 1


def test_assessment_counts_urgency_flags_and_validation_errors(client: FlaskClient) -> None:
    response = client.post("/assess", json=ASSESS_BODY)
    assert response.status_code == 200
    urgency = response.get_json()["urgency"]["level"]
    assessed = _value("popcheck_assessments_total", urgency=urgency)
    requests = _value("popcheck_http_requests_total", method="POST", route="/assess", status="200")
    timed = _value("popcheck_http_request_duration_seconds_count", method="POST", route="/assess")
    invalid = _value("popcheck_validation_errors_total")

    assert client.post("/assess", json=ASSESS_BODY).status_code == 200
    assert client.post("/assess", json={**ASSESS_BODY, "age": "old"}).status_code == 422

    assert _value("popcheck_assessments_total", urgency=urgency) == assessed + 1
    assert (
        _value("popcheck_http_requests_total", method="POST", route="/assess", status="200")
        == requests + 1
    )
    assert (
        _value("popcheck_http_request_duration_seconds_count", method="POST", route="/assess")
        == timed + 2
    )
    assert _value("popcheck_validation_errors_total") == invalid + 1


def test_red_flags_and_rule_hits_are_counted_from_the_hook() -> None:
    flags = _value("popcheck_red_flags_total", flag="cauda_equina")
    hits = _value("popcheck_rule_hits_total", table="urgency", rule="U1")
    metrics.record_assessment(
        {"urgency": {"level": "emergency"}, "red_flags": [{"id": "cauda_equina"}]},
        [("urgency", "U1"), ("urgency", "U1")],
    )
    assert _value("popcheck_red_flags_total", flag="cauda_equina") == flags + 1
    metrics.render()  # a scrape folds the tallied rule hits in
    assert _value("popcheck_rule_hits_total", table="urgency", rule="U1") == hits + 2


def test_metrics_endpoint_serves_the_ruleset_info(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    rules = client.get("/rules").get_json()
    body = response.get_data(as_text=True)
    assert f'digest="{rules["digest"]}"' in body


def _format(message: str, *args: Any, **extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("popcheck.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


@pytest.mark.parametrize("text", ['quote " here', "back\\slash", "new\nline", "nul\x00", "é\ud800"])
def test_json_formatter_keeps_any_text_on_one_parseable_line(text: str) -> None:
    record = _format("said %s", text, header=text)
    assert record["msg"] == f"said {text}"
    assert record["header"] == text
    assert record["level"] == "INFO" and record["logger"] == "popcheck.test"


class _Response:
    status = "200 OK"
    headers = [("X-Request-ID", 'id"with\\quotes')]
    sent = 42


def test_logconfig_dict_sends_every_logger_to_one_json_handler() -> None:
    config = gunicorn_logconfig("WARNING")
    # gunicorn merges this shallowly into its defaults: root and both loggers are redefined.
    assert config["root"] == {"level": "WARNING", "handlers": ["json"]}
    for name in ("gunicorn.error", "gunicorn.access"):
        assert config["loggers"][name]["handlers"] == ["json"]
    assert config["formatters"]["json"]["()"].endswith("JsonFormatter")


def test_access_logger_writes_structured_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access_log = logging.getLogger("popcheck.test.access")
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    logger = AccessLogger.__new__(AccessLogger)  # skip gunicorn's setup: no config needed
    logger.access_log = access_log
    logger._access_log_enabled = True
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/assess",
        "QUERY_STRING": "explain=true",
        "popcheck.route": "/assess",
        "popcheck.urgency": "routine",
    }
    try:
        logger.access(_Response(), None, environ, timedelta(microseconds=1500))
    finally:
        access_log.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["request_id"] == 'id"with\\quotes'
    assert record["route"] == "/assess"
    assert record["status"] == 200
    assert record["duration_ms"] == 1.5
    assert record["urgency"] == "routine"
    assert "explain" not in line  # no query string: it is caller input
