"""The clinical hazard log (``service/rules/hazards.yaml``): every hazard has a control, and
every control names a rule, an invariant or a test that exists. ``popcheck rules check``
reports what the package can check itself; the tests named here are checked here, because
the installed package does not ship them."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest
import yaml

from popcheck.assessment import load_assessor
from popcheck.commands.rules import run_check
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.hazards import HAZARDS_FILE, Hazard, hazard_findings, load_hazards

ROOT = Path(__file__).resolve().parents[2]
HAZARDS, SHAPE = load_hazards(DEFAULT_RULES_DIR)
RULE_IDS = {
    rule.id for table in load_assessor(DEFAULT_RULES_DIR).ruleset.tables for rule in table.rules
}


def test_the_shipped_log_has_no_findings() -> None:
    assert SHAPE == []
    assert hazard_findings(HAZARDS, RULE_IDS) == []
    assert len(HAZARDS) >= 10


def test_the_log_covers_the_v11_findings() -> None:
    titles = " ".join(h.hazard.lower() for h in HAZARDS)
    for words in ("cauda equina", "infection", "urgent case", "aortic", "cord compression"):
        assert words in titles, words
    covered = {n for h in HAZARDS for n in h.invariants}
    assert set(range(10, 17)) <= covered


def _exists(test: str) -> bool:
    path, _, name = test.partition("::")
    file = ROOT / path
    if not file.is_file():
        return False
    if file.suffix == ".yaml":
        cases = yaml.safe_load(file.read_text(encoding="utf-8"))
        return any(case.get("name") == name for case in cases)
    return (
        re.search(rf"^def {re.escape(name)}\(", file.read_text(encoding="utf-8"), re.M) is not None
    )


@pytest.mark.parametrize(
    "test", sorted({t for h in HAZARDS for t in h.tests}), ids=lambda t: t.rsplit("::", 1)[-1]
)
def test_every_test_a_control_names_exists(test: str) -> None:
    assert _exists(test), f"{HAZARDS_FILE}: no such test or golden case: {test}"


def test_a_control_naming_a_missing_test_is_caught() -> None:
    assert not _exists("tests/unit/test_hazards.py::test_that_does_not_exist")
    assert not _exists("tests/golden/v1_1_criteria.yaml::no such case")


def test_findings_name_the_hazard() -> None:
    bare = Hazard("HAZ-X", "h", "c", "e", "major", "low", (), (), ())
    wrong = Hazard("HAZ-Y", "h", "c", "e", "huge", "low", ("rf_nope",), (17,), ("nope",))
    messages = [str(f) for f in hazard_findings([bare, wrong], RULE_IDS)]
    assert any("HAZ-X" in m and "has no control" in m for m in messages)
    assert any("HAZ-Y" in m and "'rf_nope', which is not in the ruleset" in m for m in messages)
    assert any("HAZ-Y" in m and "invariant 17" in m for m in messages)
    assert any("HAZ-Y" in m and "severity must be" in m for m in messages)
    assert any("HAZ-Y" in m and "tests/<file>::" in m for m in messages)


def test_rules_check_reports_a_hazard_with_no_control(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    path = rules / HAZARDS_FILE
    log = yaml.safe_load(path.read_text(encoding="utf-8"))
    log["hazards"].append(
        {
            "id": "HAZ-999",
            "hazard": "Something new",
            "cause": "A cause",
            "effect": "An effect",
            "severity": "minor",
            "likelihood": "low",
        }
    )
    path.write_text(yaml.safe_dump(log, sort_keys=False), encoding="utf-8")
    assert run_check(argparse.Namespace(directory=rules)) == 1
    assert re.search(r"hazards\.yaml:\d+: HAZ-999: has no control", capsys.readouterr().out)
