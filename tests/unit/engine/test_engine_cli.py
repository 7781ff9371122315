"""``popcheck rules check|test|export`` on the fixture ruleset (facts injected)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from popcheck.commands import rules as rules_command
from popcheck.engine import FactSpec
from tests.support.engine_rules import FACTS, FIXTURE


@pytest.fixture(autouse=True)
def fixture_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    def facts() -> Mapping[str, FactSpec]:
        return FACTS

    monkeypatch.setattr(rules_command, "_facts", facts)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "mini"))


def _run(argv: list[str]) -> int:
    return rules_command.main(argv)


def test_check_passes_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["check", str(FIXTURE)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("ok: mini 1.2.3: 5 tables, 17 rules, no findings (sha256:")


def test_check_prints_one_line_per_finding_and_exits_1(
    mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = mini / "tables" / "sitting.yaml"
    path.write_text(path.read_text().replace('">= 6"', '">= 2"'))
    assert _run(["check", str(mini)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        "tables/sitting.yaml:17: sit_mid: is shadowed under FIRST by earlier rule(s) sit_long: "
        "it can never be the first match"
    ]


def test_test_runs_scenarios_and_reports_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["test", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "rule coverage: 12/17 rules fired by 3 scenario(s) and 0 golden case(s)" in out
    assert "  not fired: tables/stiffness.yaml: st_full" in out
    assert "  not fired: tables/red_flags.yaml: rf_saddle" not in out
    assert out.strip().endswith("ok: 0 failure(s)")


def test_test_reports_failing_scenarios(mini: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (mini / "scenarios" / "wrong.yaml").write_text(
        "name: wrong\nfacts: {saddle: true}\nexpect:\n"
        "  urgency: {matched: [u_default], value: {level: self_care}}\n"
        "  nosuch: {value: 1}\n"
    )
    (mini / "scenarios" / "typed.yaml").write_text(
        "name: mistyped\nfacts: {saddle: 'yes'}\nexpect: {}\n"
    )
    assert _run(["test", str(mini)]) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL scenarios/wrong.yaml: wrong: urgency: matched ['u_ces', 'u_default'], "
        "expected ['u_default']" in out
    )
    assert "FAIL scenarios/wrong.yaml: wrong: urgency: value {'level': 'emergency'}" in out
    assert "FAIL scenarios/wrong.yaml: wrong: no table 'nosuch'" in out
    assert "FAIL scenarios/typed.yaml: mistyped: evaluation failed: fact 'saddle'" in out
    assert "FAILED: 4 failure(s)" in out


def test_test_on_a_broken_ruleset_prints_findings(
    mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini / "catalog.yaml").write_text("flags: {ces: x}\nlevels: {}\n")
    assert _run(["test", str(mini)]) == 1
    out = capsys.readouterr().out
    assert "-: output 'flag' value 'infection' has no text" in out
    assert "tables/red_flags.yaml:" in out


def test_export_writes_a_jdm_graph(tmp_path: Path) -> None:
    target = tmp_path / "mini.json"
    assert _run(["export", "--format", "jdm", str(FIXTURE), "-o", str(target)]) == 0
    graph = json.loads(target.read_text())
    assert graph["contentType"] == "application/vnd.gorules.decision"
    kinds = [node["type"] for node in graph["nodes"]]
    assert kinds[0] == "inputNode" and kinds[-1] == "outputNode"
    assert kinds.count("decisionTableNode") == 5
    assert len(graph["edges"]) == len(graph["nodes"]) - 1
