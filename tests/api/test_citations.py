"""Which guidance produced an answer: ``GET /rules`` lists every rule with its source and
citation, and ``?explain=true`` names them beside every rule that matched."""

from __future__ import annotations

import yaml
from flask.testing import FlaskClient

from popcheck.config import DEFAULT_RULES_DIR
from popcheck.rules_check import citation

SOURCES = yaml.safe_load((DEFAULT_RULES_DIR / "sources.yaml").read_text(encoding="utf-8"))


def test_rules_lists_each_rule_with_its_citation(client: FlaskClient) -> None:
    tables = client.get("/rules").get_json()["tables"]
    rules = [rule for table in tables for rule in table["rules"]]
    assert [len(table["rules"]) for table in tables] == [t["rule_count"] for t in tables]
    for rule in rules:
        assert rule["citation"] == citation(SOURCES[rule["source"]]), rule["id"]


def test_explain_cites_every_matched_rule(client: FlaskClient) -> None:
    body = {"age": 40, "neuro": {"saddle_numbness": True}}
    trace = client.post("/assess?explain=true", json=body).get_json()["trace"]
    matched = [m for step in trace for m in step["matched"]]
    assert any(m["rule"] == "rf_ces_saddle_numbness" for m in matched)
    for m in matched:
        assert m["citation"] == citation(SOURCES[m["source"]]), m["rule"]


def test_a_citation_reads_as_a_reference() -> None:
    entry = {"title": "Low back pain.", "publisher": "NICE", "year": 2016, "link": "https://x"}
    assert citation(entry) == "Low back pain. NICE, 2016. https://x"
    assert (
        citation({"title": "T", "authors": "A B", "publisher": "P", "year": 1}) == "T. A B. P, 1."
    )
