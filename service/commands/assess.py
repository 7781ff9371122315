"""``popcheck assess [FILE|-]``: assess one request from a file or stdin, without a server.

The request goes through the same strict JSON reader (``popcheck.jsontext``) and the same
``popcheck.intake.assess_document`` as ``POST /assess``, so what this command accepts the API
accepts, and the other way round.
Authors use it to try a table change before starting anything::

    popcheck assess examples/sciatica.json
    popcheck assess --rules /tmp/my-rules --explain examples/sciatica.json
    echo '{"age": 40}' | popcheck assess --json -

Exit status: 0 assessed; 1 the ruleset is broken or evaluation failed; 2 the request could not
be read or is invalid (every problem is printed, ``field.path: message``, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from popcheck.assessment import load_assessor
from popcheck.config import ConfigError, load_settings
from popcheck.engine import EngineError, RuleError
from popcheck.intake import InvalidRequest, assess_document
from popcheck.jsontext import MalformedJson, parse_json_object

EXIT_OK = 0
EXIT_RULES = 1
EXIT_INVALID = 2


class RequestProblem(Exception):
    """The request could not be read or failed validation; ``lines`` say why, one per problem."""

    def __init__(self, lines: Sequence[str], headline: str = "the request is not valid") -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)
        self.headline = headline


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``assess`` to the ``popcheck`` command."""
    parser = subparsers.add_parser(
        "assess",
        help="assess one JSON request from a file or stdin, without a server",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Print the assessment for an AssessmentRequest (the body of POST /assess),\n"
            "read from FILE or stdin. Validation is the API's: unknown fields, wrong\n"
            "types and out-of-range values are errors."
        ),
        epilog=(
            "examples:\n"
            "  popcheck assess examples/sciatica.json\n"
            "  popcheck assess --explain --rules /tmp/my-rules examples/sciatica.json\n"
            "  echo '{\"age\": 40}' | popcheck assess --json -\n"
            "\n"
            "exit status: 0 assessed, 1 the ruleset is broken, 2 the request is invalid"
        ),
    )
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="JSON request file; '-' or nothing reads stdin",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the raw response body as JSON (what POST /assess returns, without 'id')",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also show the trace: each table evaluated and the rules that matched",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        metavar="DIR",
        default=None,
        help="rules directory to assess with (default: POPCHECK_RULES_DIR or the shipped rules)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read, assess and print; return the exit status."""
    try:
        document = read_document(_read_source(args.file))
    except RequestProblem as exc:
        _print_problems(exc.headline, exc.lines)
        return EXIT_INVALID
    try:
        rules_dir = args.rules if args.rules is not None else load_settings().rules_dir
        assessor = load_assessor(rules_dir)
    except ConfigError as exc:
        _print_problems("configuration error", [str(exc)])
        return EXIT_INVALID
    except RuleError as exc:
        _print_problems(
            f"the ruleset in {rules_dir} cannot be loaded", [str(f) for f in exc.findings]
        )
        return EXIT_RULES
    except OSError as exc:
        _print_problems(f"the ruleset in {rules_dir} cannot be read", [_os_error(exc)])
        return EXIT_RULES
    try:
        result = assess_document(assessor, document, explain=args.explain)
    except InvalidRequest as exc:
        lines = [
            f"{path or '(request)'}: {message}"
            for path in sorted(exc.errors)
            for message in exc.errors[path]
        ]
        _print_problems("the request is not valid", lines)
        return EXIT_INVALID
    except EngineError as exc:
        _print_problems("evaluation failed (a bug in the rules or the engine)", [str(exc)])
        return EXIT_RULES
    if args.json:
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render(result, width=_width())
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): not an error. Point stdout at devnull so the
        # interpreter's final flush does not print a traceback (Python's documented recipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def read_document(text: str) -> dict[str, Any]:
    """Parse like ``POST /assess``; raise ``RequestProblem`` saying what is wrong."""
    try:
        return parse_json_object(text.encode("utf-8", "surrogateescape"))
    except MalformedJson as exc:
        # The reader speaks of an HTTP body; here the body is the request file.
        raise RequestProblem([str(exc).replace("The body", "The request", 1)]) from None


def _read_source(name: str) -> str:
    if name == "-":
        if sys.stdin.isatty():
            # Otherwise a bare `popcheck assess` looks like it hangs.
            print("reading the request from stdin (end with Ctrl-D)...", file=sys.stderr)
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise RequestProblem([_os_error(exc)], headline="cannot read the request") from None


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _print_problems(headline: str, lines: Iterable[str]) -> None:
    print(f"popcheck assess: {headline}:", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)


def _width() -> int:
    if not sys.stdout.isatty():
        # Piped or redirected: one line per item, so `| grep rule_id` finds whole lines.
        return 100_000
    return max(60, min(100, shutil.get_terminal_size((88, 24)).columns))


# Pretty output ----------------------------------------------------------------------------


def render(result: Mapping[str, Any], *, width: int = 88) -> str:
    """A readable summary of an Assessment body: urgency first, then what to do and why."""
    out = _Writer(width)
    ruleset = result.get("ruleset") or {}
    urgency = result.get("urgency") or {}

    out.heading(f"URGENCY: {str(urgency.get('level', '?')).upper()}")
    out.para(_text(urgency.get("seek_care")), indent=2)
    for reason in urgency.get("reasons") or []:
        out.para(f"- {_text(reason)}", indent=2, hang=2)
    if urgency.get("rule"):
        out.para(f"(rule {urgency['rule']})", indent=2)

    flags = result.get("red_flags") or []
    out.heading("RED FLAGS" if flags else "RED FLAGS: none")
    for flag in flags:
        out.para(f"! {_label(flag)}{_evidence(flag)}", indent=2, hang=2)
        if flag.get("explanation"):
            out.para(str(flag["explanation"]), indent=4)

    causes = result.get("causes") or []
    out.heading("POSSIBLE CAUSES, MOST LIKELY FIRST" if causes else "POSSIBLE CAUSES: none found")
    for number, cause in enumerate(causes, 1):
        score = cause.get("score")
        score_text = f", score {score:.2f}" if isinstance(score, int | float) else ""
        out.para(
            f"{number}. {_label(cause)} ({cause.get('likelihood', '?')}{score_text})", indent=2
        )
        out.para(_text(cause.get("explanation")), indent=5)
        evidence = _evidence(cause)
        if evidence:
            out.para(evidence.strip(), indent=5)

    recommendations = result.get("recommendations") or []
    out.heading("WHAT TO DO")
    for item in recommendations:
        out.para(f"- {_label(item)} [{item.get('type', '?')}]", indent=2)
        out.para(_text(item.get("instructions")), indent=4)
        dose = _dose(item.get("dose"))
        if dose:
            out.para(f"dose: {dose}", indent=4)
        if item.get("reason"):
            out.para(f"why: {_text(item['reason'])}", indent=4)

    questions = result.get("questions") or []
    if questions:
        out.heading("PLEASE ALSO ANSWER (these could raise the urgency)")
        for question in questions:
            out.para(f"? {_text(question.get('text'))} ({question.get('field')})", indent=2, hang=2)

    warnings = result.get("warnings") or []
    if warnings:
        out.heading("CHECK THESE ANSWERS")
        for warning in warnings:
            fields = ", ".join(str(f) for f in warning.get("fields") or [])
            suffix = f" ({fields})" if fields else ""
            out.para(f"~ {_text(warning.get('message'))}{suffix}", indent=2, hang=2)

    if "trace" in result:
        out.heading("TRACE (tables in evaluation order)")
        for depth, line in render_trace(result.get("trace") or []):
            out.para(line, indent=2 + 2 * depth, hang=4)

    out.blank()
    out.para(_text(result.get("disclaimer")))
    if ruleset:
        out.para(
            f"Rules: {ruleset.get('name', '?')} {ruleset.get('version', '?')} "
            f"({ruleset.get('digest', '?')})"
        )
    return out.text()


def render_trace(trace: Sequence[Any]) -> list[tuple[int, str]]:
    """``(depth, text)`` lines: each table with its result, then the rules that matched, the
    rules waiting for an answer, and the near misses (failed on one condition only)."""
    lines: list[tuple[int, str]] = []
    for entry in trace:
        if not isinstance(entry, Mapping):
            lines.append((0, _compact(entry)))
            continue
        policy = entry.get("hit_policy")
        head = f"{entry.get('table', '?')}" + (f" ({policy})" if policy else "")
        if "value" in entry:
            head += f" -> {_compact(entry['value'])}"
        lines.append((0, head))
        matched = entry.get("matched", entry.get("matches")) or []
        if not matched:
            lines.append((1, "no rule matched"))
        for match in matched:
            lines.append((1, f"matched {_rule(match)}{_outputs(match)}"))
        for item in entry.get("partial") or []:
            missing = ", ".join(str(m) for m in _get(item, "missing"))
            lines.append((1, f"needs an answer: {_rule(item)} (unanswered: {missing})"))
        for item in entry.get("near_misses") or []:
            failed = _get(item, "failed")
            test = _get(item, "test")
            lines.append((1, f"near miss: {_rule(item)} ({failed} did not match {test})"))
    return lines


def _get(item: Any, key: str) -> Any:
    return item.get(key, "?") if isinstance(item, Mapping) else "?"


def _rule(item: Any) -> str:
    if not isinstance(item, Mapping):
        return _compact(item)
    return str(item.get("rule", item.get("rule_id", item.get("id", "?"))))


def _outputs(item: Any) -> str:
    outputs = item.get("outputs") if isinstance(item, Mapping) else None
    if not isinstance(outputs, Mapping) or not outputs:
        return ""
    return ": " + ", ".join(f"{k}={_compact(v)}" for k, v in outputs.items())


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _label(item: Mapping[str, Any]) -> str:
    return str(item.get("label") or item.get("id") or "?")


def _evidence(item: Mapping[str, Any]) -> str:
    evidence = item.get("evidence") or []
    return f" (from {', '.join(str(e) for e in evidence)})" if evidence else ""


def _dose(dose: Any) -> str:
    if dose in (None, "", {}):
        return ""
    if isinstance(dose, Mapping):
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dose.items() if v is not None)
    return str(dose)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        for key in ("text", "label", "message", "id"):
            if key in value:
                return str(value[key])
        return _compact(value)
    return str(value)


class _Writer:
    """Collects wrapped paragraphs; keeps ``render`` free of string bookkeeping."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[str] = []

    def heading(self, title: str) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(title)

    def para(self, text: str, *, indent: int = 0, hang: int = 0) -> None:
        if not text:
            return
        self.lines.extend(
            textwrap.wrap(
                text,
                width=self.width,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + hang),
                break_on_hyphens=False,
            )
        )

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
