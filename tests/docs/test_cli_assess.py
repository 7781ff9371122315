"""``popcheck assess [FILE|-]``: the API's answer without a server, and clear errors."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from popcheck.cli import main
from tests.docs.examples_support import EXAMPLES_DIR, ROOT, load_example

EMERGENCY = EXAMPLES_DIR / "red_flag_emergency.json"
SCIATICA = EXAMPLES_DIR / "sciatica.json"


def run_cli(
    capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    status = main(["assess", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(autouse=True)
def _restore_stdin() -> object:
    original = sys.stdin
    yield None
    sys.stdin = original


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_json_output_is_the_api_body_without_id(
    capsys: pytest.CaptureFixture[str], client: FlaskClient, path: Path
) -> None:
    status, out, err = run_cli(capsys, "--json", str(path))
    assert (status, err) == (0, "")
    api = client.post("/assess", data=path.read_bytes(), content_type="application/json")
    expected = api.get_json()
    del expected["id"]
    assert json.loads(out) == expected


def test_pretty_output_leads_with_urgency_and_shows_labels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, raw, _ = run_cli(capsys, "--json", str(EMERGENCY))
    body = json.loads(raw)
    status, out, err = run_cli(capsys, str(EMERGENCY))
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == f"URGENCY: {body['urgency']['level'].upper()}"
    assert body["urgency"]["level"] == load_example("red_flag_emergency").expect["urgency"]
    flat = " ".join(out.split())  # labels may be wrapped over lines
    for item in (*body["red_flags"], *body["recommendations"]):
        assert " ".join(item["label"].split()) in flat
    assert " ".join(body["disclaimer"].split()) in flat
    assert body["ruleset"]["digest"] in out
    assert "TRACE" not in out
    assert not out.lstrip().startswith("{")


def test_pretty_output_lists_causes_most_likely_first(capsys: pytest.CaptureFixture[str]) -> None:
    _, raw, _ = run_cli(capsys, "--json", str(SCIATICA))
    causes = json.loads(raw)["causes"]
    assert causes
    _, out, _ = run_cli(capsys, str(SCIATICA))
    flat = " ".join(out.split())
    positions = [
        flat.index(f"{n}. {' '.join(c['label'].split())}") for n, c in enumerate(causes, 1)
    ]
    assert positions == sorted(positions)


def test_explain_adds_the_trace(capsys: pytest.CaptureFixture[str], client: FlaskClient) -> None:
    status, raw, _ = run_cli(capsys, "--json", "--explain", str(SCIATICA))
    assert status == 0
    body = json.loads(raw)
    assert body["trace"]
    status, out, _ = run_cli(capsys, "--explain", str(SCIATICA))
    assert status == 0
    trace_section = out.split("TRACE (tables in evaluation order)", 1)[1]
    tables = client.get("/rules").get_json()["tables"]
    for table in tables:
        assert table["name"] in trace_section


@pytest.mark.parametrize("args", [("-",), ()], ids=["dash", "no-file"])
def test_reads_stdin(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    status, out, _ = run_cli(capsys, "--json", *args, stdin=EMERGENCY.read_text())
    assert status == 0
    expected = load_example("red_flag_emergency").expect["urgency"]
    assert json.loads(out)["urgency"]["level"] == expected


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        ('{"age": 40, "neuro": {"saddle_numbnes": true}}', "neuro.saddle_numbnes:"),
        ('{"age": 200}', "age:"),
        ('{"pain": {"level": 3}}', "age:"),
        ('{"age": 40, "muscles": {"tight": ["hips", "elbows"]}}', "muscles.tight.1:"),
        ('{"age": 40', "not valid JSON"),
        ('{"age": NaN}', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("", "empty"),
    ],
)
def test_invalid_requests_exit_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], stdin: str, expected: str
) -> None:
    status, out, err = run_cli(capsys, "-", stdin=stdin)
    assert status == 2
    assert out == ""
    assert err.startswith("popcheck assess: the request is not valid:")
    assert expected in err


def test_every_validation_problem_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "-", stdin='{"age": 10, "pain": {"level": 11}, "onset": "x"}')
    assert status == 2
    for path in ("age:", "pain.level:", "onset:"):
        assert path in err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    status, _, err = run_cli(capsys, str(missing))
    assert status == 2
    assert err.startswith("popcheck assess: cannot read the request:")
    assert str(missing) in err


def test_broken_rules_directory_exits_1_with_findings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "service" / "rules", rules)
    table = rules / "tables" / "urgency.yaml"
    table.write_text(table.read_text() + "\n  - id: [unclosed\n")
    status, out, err = run_cli(capsys, "--rules", str(rules), str(SCIATICA))
    assert status == 1
    assert out == ""
    assert "cannot be loaded" in err
    assert "urgency.yaml" in err


def test_rules_option_uses_that_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "service" / "rules", rules)
    ruleset = rules / "ruleset.yaml"
    text, count = re.subn(r"(?m)^version: .*$", "version: 9.9.9", ruleset.read_text())
    assert count == 1
    ruleset.write_text(text)
    status, out, _ = run_cli(capsys, "--json", "--rules", str(rules), str(SCIATICA))
    assert status == 0
    assert json.loads(out)["ruleset"]["version"] == "9.9.9"


@pytest.mark.parametrize(("stdin", "status"), [('{"age": 40, "bogus": 1}', 2), ('{"age": 40}', 0)])
def test_the_installed_command_never_prints_a_traceback(stdin: str, status: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "popcheck.cli", "assess", "-"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    # `popcheck assess --explain file | head -n 1`: the pipe closes before the output is
    # written. Python's default would end with a BrokenPipeError traceback.
    process = subprocess.Popen(
        [sys.executable, "-m", "popcheck.cli", "assess", "--json", "--explain", str(SCIATICA)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr


def test_help_lists_examples_and_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["assess", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--json" in out and "--explain" in out and "--rules" in out
    assert "exit status: 0 assessed, 1 the ruleset is broken, 2 the request is invalid" in out
