"""``popcheck rules check`` is the service's own check: what start-up refuses, ``check`` reports.

Each mistake below once passed ``rules check`` while the service refused to start (and
``rules test`` crashed with a traceback). Each test edits a copy of the shipped rules.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from popcheck.assessment import load_assessor
from popcheck.commands import rules as rules_command
from popcheck.config import DEFAULT_RULES_DIR
from popcheck.engine import RuleError
from popcheck.rules_check import check_rules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEFAULT_RULES_DIR, tmp_path / "rules"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _plain_recommendation(rules: Path) -> None:
    catalog = rules / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    start = text.index("\n  cat_cow:\n") + 1
    end = text.index("\n  supine_twist:\n", start) + 1
    catalog.write_text(text[:start] + "  cat_cow: Cat-cow stretch\n" + text[end:])


def _unknown_dose_key(rules: Path) -> None:
    _edit(
        rules / "catalog.yaml",
        "dose: {reps: 10, hold_seconds: 3, times_per_day: 2}",
        "dose: {reps: 10, hold_seconds: 3, times_per_week: 2}",
    )


def _misspelt_placeholder(rules: Path) -> None:
    _edit(
        rules / "catalog.yaml",
        "back pain ({pain.level} out of 10)",
        "back pain ({pain.levle} out of 10)",
    )


def _untested_placeholder(rules: Path) -> None:
    _edit(
        rules / "catalog.yaml",
        "new_pain_over_50: You are {age}, and",
        "new_pain_over_50: You are {age} ({history.cancer}), and",
    )


def _unclosed_placeholder(rules: Path) -> None:
    _edit(
        rules / "catalog.yaml",
        "new_pain_over_50: You are {age}, and",
        "new_pain_over_50: You are {age, and",
    )


def _unknown_source(rules: Path) -> None:
    _edit(
        rules / "tables" / "red_flags.yaml",
        "reason: saddle_numbness}\n    source: CKS-CES",
        "reason: saddle_numbness}\n    source: NG999",
    )


MISTAKES: dict[str, tuple[Callable[[Path], None], str]] = {
    "plain string entry": (_plain_recommendation, "recommendations 'cat_cow' must be a mapping"),
    "unknown dose key": (_unknown_dose_key, "unknown dose key 'times_per_week'"),
    "unknown source": (_unknown_source, "rf_ces_saddle_numbness: source 'NG999' is not in"),
    "misspelt placeholder": (_misspelt_placeholder, "did you mean 'pain.level'?"),
    "untested placeholder": (
        _untested_placeholder,
        "quotes 'history.cancer', which this rule does not test",
    ),
    "unclosed placeholder": (_unclosed_placeholder, "expected '}' before end of string"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_check_and_start_up_refuse_the_same_mistake(
    mistake: str, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = MISTAKES[mistake]
    make(rules)
    assert rules_command.main(["check", str(rules)]) == 1
    out = capsys.readouterr().out
    assert expected in out
    # Each line names the file and the line in it: "catalog.yaml:160: -: stretch 'cat_cow': ..."
    line = next(line for line in out.splitlines() if expected in line)
    assert re.match(r"(catalog\.yaml|tables/red_flags\.yaml):\d+: ", line), line
    with pytest.raises(RuleError) as refused:
        load_assessor(rules)
    assert {str(f) for f in refused.value.findings} == {str(f) for f in check_rules(rules)}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_rules_test_reports_findings_instead_of_a_traceback(
    mistake: str, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    MISTAKES[mistake][0](rules)
    assert rules_command.main(["test", str(rules), "--cases", str(ROOT / "tests" / "golden")]) == 1
    captured = capsys.readouterr()
    assert MISTAKES[mistake][1] in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert "not fired" not in captured.out


def test_a_misspelt_golden_key_is_one_finding_not_a_hundred_unfired_rules(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = Path(shutil.copytree(ROOT / "tests" / "golden", tmp_path / "golden"))
    path = cases / "causes.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    top_cause:", "    top_couse:", 1), encoding="utf-8")
    assert rules_command.main(["test", str(rules), "--cases", str(cases)]) == 1
    out = capsys.readouterr().out
    assert "unknown expectation 'top_couse' (did you mean 'top_cause'?)" in out
    assert "not fired" not in out
    assert out.count("top_couse") == 1


def _check(rules: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert rules_command.main(["check", str(rules)]) == 1
    return capsys.readouterr().out.splitlines()


def test_a_misspelt_input_gets_did_you_mean_and_a_line(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = rules / "tables" / "red_flags.yaml"
    _edit(table, 'when: {neuro.saddle_numbness: "true"}', 'when: {neuro.sadle_numbness: "true"}')
    line = (
        table.read_text(encoding="utf-8")
        .splitlines()
        .index('    when: {neuro.sadle_numbness: "true"}')
    )
    assert _check(rules, capsys) == [
        f"tables/red_flags.yaml:{line + 1}: rf_ces_saddle_numbness: tests "
        "'neuro.sadle_numbness', which is not an input of this table (did you mean "
        "'neuro.saddle_numbness'?); a rule may test only the inputs listed under the "
        "table's inputs"
    ]


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("yes", "YAML reads a bare yes as true; write true for yes or false for no"),
        ('"yes"', "'yes' is not a test of a yes/no input: write true"),
        ('"no"', "'no' is not a test of a yes/no input: write false"),
    ],
)
def test_yes_and_no_are_refused_with_a_hint_that_works(
    cell: str, hint: str, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = rules / "tables" / "red_flags.yaml"
    _edit(
        table, 'when: {neuro.saddle_numbness: "true"}', f"when: {{neuro.saddle_numbness: {cell}}}"
    )
    out = _check(rules, capsys)
    assert len(out) == 1
    assert out[0].endswith(f"rf_ces_saddle_numbness: input 'neuro.saddle_numbness': {hint}")
    # Following the hint gives a clean ruleset.
    fixed = "true" if "true" in hint else "false"
    _edit(
        table,
        f"when: {{neuro.saddle_numbness: {cell}}}",
        f"when: {{neuro.saddle_numbness: {fixed}}}",
    )
    assert rules_command.main(["check", str(rules)]) in (0, 1)
    assert "neuro.saddle_numbness" not in capsys.readouterr().out


def test_a_yaml_error_is_in_plain_words_with_no_knock_on_errors(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = rules / "tables" / "red_flags.yaml"
    _edit(
        table,
        "    then: {flag: cauda_equina, level: emergency, reason: saddle_numbness}\n",
        "    then: {flag: cauda_equina, level: emergency, reason: saddle_numbness}\n"
        "    note: Ask about this: the saddle area\n",
    )
    line = (
        table.read_text(encoding="utf-8")
        .splitlines()
        .index("    note: Ask about this: the saddle area")
    )
    # One finding: not also every table that reads red_flags' outputs.
    assert _check(rules, capsys) == [
        f"tables/red_flags.yaml:{line + 1}: -: YAML syntax: a text containing a colon must be "
        "in quotes"
    ]


def test_a_key_written_twice_is_a_finding(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = rules / "tables" / "red_flags.yaml"
    _edit(
        table,
        "    then: {flag: cauda_equina, level: emergency, reason: saddle_numbness}\n",
        "    then: {flag: cauda_equina, level: emergency, reason: saddle_numbness}\n"
        "    source: seed\n",
    )
    out = _check(rules, capsys)
    assert len(out) == 1
    assert re.match(
        r"tables/red_flags\.yaml:\d+: rf_ces_saddle_numbness: key 'source' is written twice",
        out[0],
    )


def test_every_shipped_source_has_a_citation() -> None:
    from popcheck.rules_check import load_sources

    sources, findings = load_sources(DEFAULT_RULES_DIR)
    assert findings == []
    assert {"NG59", "NG65", "CKS-RF", "seed"} <= set(sources)


def test_rules_inputs_lists_every_fact_and_chained_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from popcheck.facts import FACTS

    assert rules_command.main(["inputs", "--json"]) == 0
    found = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert set(FACTS) <= set(found)
    assert found["neuro.saddle_numbness"]["type"] == "bool"
    assert found["neuro.saddle_numbness"]["question"]
    assert found["pain.level"]["range"] == [0, 10]
    assert found["stiffness.range_of_motion"]["values"] == ["full", "reduced", "very_limited"]
    assert found["onset_age"]["kind"] == "derived"
    assert found["asas_items.item"] == {
        "name": "asas_items.item",
        "kind": "table",
        "type": "int",
        "range": [0, 5],
        "from": "table asas_items",
    }
    assert rules_command.main(["inputs"]) == 0
    text = capsys.readouterr().out
    assert "pain.level" in text
    assert "0 to 10" in text
