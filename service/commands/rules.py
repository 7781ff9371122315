"""``popcheck rules check|test|export``: the clinical author's tools for a rules directory.

- ``check [DIR]`` prints every finding as ``file: rule id: message`` (exit 1) or a one-line
  summary (exit 0). The app runs the same check at start-up and refuses a broken ruleset;
  ``check`` also reads the hazard log (``DIR/hazards.yaml``) and reports a hazard with no
  control, or a control naming a rule or an invariant that does not exist.
- ``test [DIR] [--cases PATH]`` runs the engine scenarios in ``DIR/scenarios/*.yaml`` and the
  assessment-level golden cases, then reports **rule coverage**: rules that nothing fired.
- ``export --format jdm [DIR] [-o FILE]`` writes a GoRules JDM decision graph to open and
  simulate in GoRules' editor.
- ``inputs [DIR] [--json]`` lists every input a table may test: request fields, derived
  facts and chained ``<table>.<output>``, with type, values or range, and question text.
- ``schema`` prints the JSON Schemas of the files, for editors.

``DIR`` defaults to the rules shipped in the package.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from popcheck.config import DEFAULT_RULES_DIR
from popcheck.engine import EngineError, FactSpec, Finding, Ruleset, evaluate, plain_value
from popcheck.engine.jdm import export_jdm
from popcheck.engine.loader import validate
from popcheck.engine.schema import SCENARIO_SCHEMA, SCHEMAS
from popcheck.rules_check import load_checked

EXIT_OK = 0
EXIT_FAILED = 1
#: Golden cases shipped beside the code (a source checkout; absent from an installed wheel).
DEFAULT_CASES = Path(__file__).resolve().parents[2] / "tests" / "golden"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rules`` (with ``check``, ``test`` and ``export``) to the ``popcheck`` command."""
    parser = subparsers.add_parser(
        "rules",
        help="check, test or export a rules directory",
        description="Tools for clinical authors: check tables, run scenarios, export to JDM.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="report every problem in the tables (exit 1 if any)",
        description="Load and statically check a rules directory: schema, YAML, ids, "
        "inputs, literals, overlaps, shadowed rules, gaps, cycles, catalog texts.",
    )
    _dir_argument(check)
    check.add_argument(
        "--cases",
        type=Path,
        default=None,
        metavar="PATH",
        help="golden case file or directory to check too (default: tests/golden for the "
        "shipped rules)",
    )
    check.set_defaults(func=run_check)

    test = actions.add_parser(
        "test",
        help="run scenarios and golden cases, and report rule coverage",
        description="Run DIR/scenarios/*.yaml (engine level) and the golden cases "
        "(assessment level), print failures and the rules no scenario or case fired.",
    )
    _dir_argument(test)
    test.add_argument(
        "--cases",
        type=Path,
        default=None,
        metavar="PATH",
        help="golden case file or directory (default: tests/golden for the shipped rules)",
    )
    test.set_defaults(func=run_test)

    export = actions.add_parser(
        "export",
        help="write the tables as a GoRules JDM decision graph",
        description="Export the ruleset for GoRules' editor and zen-engine.",
    )
    export.add_argument("--format", choices=["jdm"], required=True, help="export format")
    _dir_argument(export)
    export.add_argument(
        "-o", "--output", type=Path, default=None, metavar="FILE", help="default: stdout"
    )
    export.set_defaults(func=run_export)

    inputs = actions.add_parser(
        "inputs",
        help="list every input a table may test, with its type and values",
        description="Every request field, derived fact and <table>.<output> a table may "
        "test: its type, allowed values or range, and the question the person is asked.",
    )
    _dir_argument(inputs)
    inputs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    inputs.set_defaults(func=run_inputs)

    schema = actions.add_parser(
        "schema",
        help="print the JSON Schemas of the rules files",
        description="Print the JSON Schemas (ruleset, table, catalog, scenario) as JSON.",
    )
    schema.set_defaults(func=run_schema)


def _dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=DEFAULT_RULES_DIR,
        metavar="DIR",
        help="rules directory (default: the shipped rules)",
    )


def _facts() -> Mapping[str, FactSpec] | None:
    """``None``: the service's own facts, and every check the service runs. Tests of the
    engine alone replace this with the facts of their fixture rulesets."""
    return None


def _default_cases(directory: Path) -> Path | None:
    """The golden cases that go with ``directory``: ``tests/golden`` for the shipped rules."""
    if Path(directory).resolve() == DEFAULT_RULES_DIR.resolve() and DEFAULT_CASES.is_dir():
        return DEFAULT_CASES
    return None


def _print_findings(findings: Sequence[Finding], directory: Path) -> None:
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s) in {directory}", file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    """Print every finding; exit 1 if there is any. The same check as the service's at
    start-up (``popcheck.rules_check``), plus the golden cases' files."""
    cases = getattr(args, "cases", None) or _default_cases(args.directory)
    ruleset, findings = load_checked(args.directory, facts=_facts(), cases=cases)
    if findings or ruleset is None:
        _print_findings(findings, args.directory)
        return EXIT_FAILED
    rules = sum(len(t.rules) for t in ruleset.tables)
    print(
        f"ok: {ruleset.name} {ruleset.version}: {len(ruleset.tables)} tables, {rules} rules, "
        f"no findings ({ruleset.digest})"
    )
    return EXIT_OK


def _load(directory: Path, cases: Path | None = None) -> Ruleset | None:
    ruleset, findings = load_checked(directory, facts=_facts(), cases=cases)
    if ruleset is None:
        _print_findings(findings, directory)
        print(f"the ruleset in {directory} cannot be used until these are fixed", file=sys.stderr)
    return ruleset


@dataclass
class _Report:
    failures: list[str] = field(default_factory=list)
    fired: set[str] = field(default_factory=set)
    scenarios: int = 0
    cases: int = 0


def run_scenarios(ruleset: Ruleset, directory: Path, report: _Report) -> None:
    """Run ``directory/scenarios/*.yaml`` against ``ruleset``, adding to ``report``."""
    for path in sorted((directory / "scenarios").glob("*.yaml")):
        rel = path.relative_to(directory).as_posix()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            report.failures.append(f"{rel}: cannot read: {exc}")
            continue
        problems = validate(doc, SCENARIO_SCHEMA, rel)
        if problems:
            report.failures.extend(str(p) for p in problems)
            continue
        for scenario in doc if isinstance(doc, list) else [doc]:
            report.scenarios += 1
            report.failures.extend(
                f"{rel}: {scenario['name']}: {problem}"
                for problem in _run_scenario(ruleset, scenario, report.fired)
            )


def _run_scenario(ruleset: Ruleset, scenario: Mapping[str, Any], fired: set[str]) -> list[str]:
    try:
        evaluation = evaluate(ruleset, scenario["facts"])
    except EngineError as exc:
        return [f"evaluation failed: {exc}"]
    problems = []
    for result in evaluation.results.values():
        fired.update(m.rule_id for m in result.matches)
    for name, expect in scenario["expect"].items():
        got = evaluation.results.get(name)
        if got is None:
            problems.append(f"no table {name!r}")
            continue
        matched = [m.rule_id for m in got.matches]
        if "matched" in expect and matched != expect["matched"]:
            problems.append(f"{name}: matched {matched}, expected {expect['matched']}")
        if "value" in expect and got.value != expect["value"]:
            value = plain_value(got.value)
            problems.append(f"{name}: value {value!r}, expected {expect['value']!r}")
    return problems


def run_golden(ruleset: Ruleset, cases_path: Path, report: _Report) -> None:
    """Run the assessment-level golden cases in ``cases_path`` against ``ruleset`` (checked,
    cases included, by ``load_checked``)."""
    from popcheck.assessment import Assessor
    from popcheck.golden import GoldenError, load_cases, run_case

    try:
        cases = load_cases(cases_path)
        assessor = Assessor(ruleset)
    except (GoldenError, EngineError) as exc:
        report.failures.append(f"golden cases: {exc}")
        return
    for case in cases:
        report.cases += 1
        result = run_case(assessor, case)
        report.fired |= result.fired
        report.failures.extend(f"{case.id}: {failure}" for failure in result.failures)


def run_test(args: argparse.Namespace) -> int:
    """Run scenarios and golden cases; print failures and rule coverage."""
    cases = args.cases if args.cases is not None else _default_cases(args.directory)
    ruleset = _load(args.directory, cases)
    if ruleset is None:
        return EXIT_FAILED
    report = _Report()
    run_scenarios(ruleset, args.directory, report)
    if cases is not None:
        run_golden(ruleset, cases, report)

    for failure in report.failures:
        print(f"FAIL {failure}")
    every = [(t.file, rule.id) for t in ruleset.tables for rule in t.rules]
    unfired = [(file, rule_id) for file, rule_id in every if rule_id not in report.fired]
    print(
        f"rule coverage: {len(every) - len(unfired)}/{len(every)} rules fired by "
        f"{report.scenarios} scenario(s) and {report.cases} golden case(s)"
    )
    for file, rule_id in unfired:
        print(f"  not fired: {file}: {rule_id}")
    status = "FAILED" if report.failures else "ok"
    print(f"{status}: {len(report.failures)} failure(s)")
    return EXIT_FAILED if report.failures else EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Write the JDM graph to ``--output`` or stdout."""
    ruleset = _load(args.directory)
    if ruleset is None:
        return EXIT_FAILED
    text = json.dumps(export_jdm(ruleset), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _allowed(entry: Mapping[str, Any]) -> str:
    if "values" in entry:
        return ", ".join(map(str, entry["values"]))
    if "range" in entry:
        low, high = (str(int(x)) if float(x).is_integer() else str(x) for x in entry["range"])
        return f"{low} to {high}"
    return "true, false" if entry["type"] == "bool" else ""


def run_inputs(args: argparse.Namespace) -> int:
    """Print every input a table may test (``--json``: as JSON)."""
    from popcheck.rules_check import inputs_reference

    found = inputs_reference(args.directory)
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return EXIT_OK
    width = max(len(str(entry["name"])) for entry in found)
    for entry in found:
        print(
            f"{str(entry['name']).ljust(width)}  {str(entry['type']).ljust(9)}  {_allowed(entry)}"
        )
        made_of = entry.get("from")
        if entry.get("question"):
            print(f"    asks: {entry['question']}")
        elif isinstance(made_of, list):
            print(f"    derived from: {', '.join(made_of)}")
        elif made_of:
            print(f"    output of {str(made_of).removeprefix('table ')}")
    print(f"{len(found)} inputs", file=sys.stderr)
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    """Print every schema, keyed by file kind."""
    print(json.dumps(SCHEMAS, indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - manual use
    """Run ``popcheck rules ...`` directly (``python -m popcheck.commands.rules check``)."""
    parser = argparse.ArgumentParser(prog="popcheck")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["rules", *(argv if argv is not None else sys.argv[1:])])
    status: int = args.func(args)
    return status
