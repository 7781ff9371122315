"""Golden clinical cases: data that says what must, and must not, come out for an input.

Cases live in ``tests/golden/*.yaml``; each file holds a list of cases::

    - name: saddle numbness alone is an emergency
      note: optional; say so when the guidance is a judgment call
      input: {age: 40, neuro: {saddle_numbness: true}}
      expect:
        urgency: emergency
        red_flags: [cauda_equina]
        not_recommendations: [cat_cow]

They are written from the guidance, never copied from the service's output. The same cases run
under pytest (``tests/golden/test_golden.py``) and ``popcheck rules test``; both use
``load_cases`` and ``run_case`` from here. ``run_case`` also reports which rules fired, so the
callers can prove that the cases, between them, fire every rule.

Expectation keys (all optional; an unknown key is an error, so a typo cannot pass silently):

==========================  ==================================================================
``urgency``                 the exact level
``min_urgency``             the level is at least this
``max_urgency``             the level is at most this
``red_flags``               ids that must be present
``not_red_flags``           ids that must be absent
``red_flags_exactly``       the exact set of ids (``[]``: no red flag at all)
``evidence``                ``{flag: [fields]}``: fields that must be in that flag's evidence
``top_cause``               the id ranked first
``top_causes``              ids that must all be among the first ``len`` causes
``causes``                  ids that must be present
``not_causes``              ids that must be absent
``likelihood``              ``{cause: likely|possible}``; ``possible`` also passes when the
                            cause is absent ("at most possible")
``recommendations``         ids that must be present
``not_recommendations``     ids that must be absent
``not_recommendation_types`` types that must be absent (``stretch``, ``therapy``, ...)
``questions``               fields that must be asked
``not_questions``           fields that must not be asked
``questions_first``         fields that must be the first questions, in any order among them
``no_questions``            ``true``: nothing is asked
``warnings``                codes that must be present
``no_warnings``             ``true``: no warning at all
==========================  ==================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import yaml

__all__ = ["CaseResult", "GoldenCase", "GoldenError", "case_problems", "load_cases", "run_case"]

_LEVELS: Final[tuple[str, ...]] = ("self_care", "routine", "soon", "urgent", "emergency")

_LIST_KEYS: Final[frozenset[str]] = frozenset(
    {
        "red_flags",
        "not_red_flags",
        "red_flags_exactly",
        "top_causes",
        "causes",
        "not_causes",
        "recommendations",
        "not_recommendations",
        "not_recommendation_types",
        "questions",
        "not_questions",
        "questions_first",
        "warnings",
    }
)
_LEVEL_KEYS: Final[frozenset[str]] = frozenset({"urgency", "min_urgency", "max_urgency"})
_FLAG_KEYS: Final[frozenset[str]] = frozenset({"no_questions", "no_warnings"})
_MAPPING_KEYS: Final[frozenset[str]] = frozenset({"evidence", "likelihood"})
_KNOWN_KEYS: Final[frozenset[str]] = (
    _LIST_KEYS | _LEVEL_KEYS | _FLAG_KEYS | _MAPPING_KEYS | {"top_cause"}
)
_CASE_KEYS: Final[frozenset[str]] = frozenset({"name", "note", "input", "expect"})


class GoldenError(ValueError):
    """A case file is malformed; the message names the file and the case."""


class _Assessor(Protocol):
    def assess(self, request: Mapping[str, Any], *, explain: bool = False) -> dict[str, Any]: ...


@dataclass(frozen=True)
class GoldenCase:
    """One case: an input and what must (and must not) come out."""

    name: str
    file: str
    input: Mapping[str, Any]
    expect: Mapping[str, Any]
    note: str | None = None

    @property
    def id(self) -> str:
        """``file-stem::name``, unique across the case files (checked by ``load_cases``)."""
        return f"{Path(self.file).stem}::{self.name}"


@dataclass
class CaseResult:
    """What running a case found: ``failures`` (empty = pass) and the rule ids that fired."""

    failures: list[str] = field(default_factory=list)
    fired: set[str] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.failures


def _check_expect(where: str, expect: Any) -> None:
    if not isinstance(expect, Mapping):
        raise GoldenError(f"{where}: expect must be a mapping")
    for key, value in expect.items():
        if key not in _KNOWN_KEYS:
            raise GoldenError(f"{where}: unknown expectation {key!r}{_did_you_mean(key)}")
        if key in _LEVEL_KEYS and value not in _LEVELS:
            raise GoldenError(f"{where}: {key} must be one of {', '.join(_LEVELS)}")
        if key in _LIST_KEYS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise GoldenError(f"{where}: {key} must be a list of ids")
        if key in _FLAG_KEYS and value is not True:
            raise GoldenError(f"{where}: {key} must be true")
        if key in _MAPPING_KEYS and not isinstance(value, Mapping):
            raise GoldenError(f"{where}: {key} must be a mapping")
        if key == "top_cause" and not isinstance(value, str):
            raise GoldenError(f"{where}: top_cause must be an id")
        if key == "likelihood" and any(v not in ("likely", "possible") for v in value.values()):
            raise GoldenError(f"{where}: likelihood values are likely or possible")


def _did_you_mean(key: Any, known: Iterable[str] = _KNOWN_KEYS | _CASE_KEYS) -> str:
    close = difflib.get_close_matches(str(key), sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _case(path: Path, number: int, raw: Any) -> GoldenCase:
    """One case of ``path`` (``number`` from 1), checked; raises ``GoldenError``."""
    where = f"{path.name}: case {number}"
    if not isinstance(raw, Mapping):
        raise GoldenError(f"{where}: a case is a mapping")
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        hints = "".join(_did_you_mean(key, _CASE_KEYS) for key in sorted(map(str, unknown)))
        raise GoldenError(f"{where}: unknown keys {sorted(map(str, unknown))}{hints}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise GoldenError(f"{where}: needs a name")
    where = f"{path.name}: {name}"
    if not isinstance(raw.get("input"), Mapping):
        raise GoldenError(f"{where}: input must be a mapping (the request body)")
    if not raw.get("expect"):
        raise GoldenError(f"{where}: a case without expectations proves nothing")
    _check_expect(where, raw["expect"])
    note = raw.get("note")
    return GoldenCase(
        name=name,
        file=str(path),
        input=raw["input"],
        expect=raw["expect"],
        note=str(note) if note is not None else None,
    )


def _read(path: Path) -> list[Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GoldenError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(doc, list):
        raise GoldenError(f"{path.name}: a golden file holds a list of cases")
    return doc


def _load_file(path: Path) -> list[GoldenCase]:
    return [_case(path, number, raw) for number, raw in enumerate(_read(path), start=1)]


def case_problems(path: Path) -> list[tuple[str, str | None, int | None, str]]:
    """Every problem in the case files of ``path`` (a file or a directory), without stopping
    at the first: ``(file, case name or None, case number or None, message)``. Empty when
    ``load_cases`` would succeed."""
    path = Path(path)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    problems: list[tuple[str, str | None, int | None, str]] = []
    seen: set[str] = set()
    for file in files:
        try:
            raws = _read(file)
        except GoldenError as exc:
            problems.append((file.name, None, None, str(exc).removeprefix(f"{file.name}: ")))
            continue
        for number, raw in enumerate(raws, start=1):
            name = raw.get("name") if isinstance(raw, Mapping) else None
            label = name if isinstance(name, str) and name else None
            try:
                case = _case(file, number, raw)
            except GoldenError as exc:
                message = str(exc).removeprefix(f"{file.name}: case {number}: ")
                message = message.removeprefix(f"{file.name}: {label}: ")
                problems.append((file.name, label, number, message))
                continue
            if case.id in seen:
                problems.append((file.name, label, number, f"duplicate case {case.id!r}"))
            seen.add(case.id)
    return problems


def load_cases(path: Path) -> list[GoldenCase]:
    """Every case in ``path``: one YAML file, or every ``*.yaml`` in a directory (sorted).

    Raises:
        GoldenError: a file is malformed, or two cases share an id.
    """
    path = Path(path)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    cases = [case for file in files for case in _load_file(file)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise GoldenError(f"duplicate case {case.id!r}")
        seen.add(case.id)
    return cases


def _ids(items: Sequence[Mapping[str, Any]], key: str = "id") -> list[str]:
    return [str(item[key]) for item in items]


def _fired(trace: Sequence[Mapping[str, Any]] | None) -> set[str]:
    return {str(m["rule"]) for table in trace or () for m in table.get("matched", ())}


def run_case(assessor: _Assessor, case: GoldenCase) -> CaseResult:
    """Assess ``case.input`` (with the trace) and check every expectation.

    An exception from the assessor is a failure of the case, reported, not raised.
    """
    result = CaseResult()
    try:
        body = assessor.assess(case.input, explain=True)
    except Exception as exc:  # noqa: BLE001 - a crashing case is a failing case
        result.failures.append(f"assess raised {type(exc).__name__}: {exc}")
        return result
    result.fired = _fired(body.get("trace"))
    fail = result.failures.append
    expect = case.expect

    level = str(body["urgency"]["level"])
    rank = _LEVELS.index(level)
    if "urgency" in expect and level != expect["urgency"]:
        fail(f"urgency is {level}, expected {expect['urgency']}")
    if "min_urgency" in expect and rank < _LEVELS.index(expect["min_urgency"]):
        fail(f"urgency is {level}, expected at least {expect['min_urgency']}")
    if "max_urgency" in expect and rank > _LEVELS.index(expect["max_urgency"]):
        fail(f"urgency is {level}, expected at most {expect['max_urgency']}")

    flags = _ids(body["red_flags"])
    _present(fail, "red flag", flags, expect.get("red_flags", ()))
    _absent(fail, "red flag", flags, expect.get("not_red_flags", ()))
    if "red_flags_exactly" in expect and set(flags) != set(expect["red_flags_exactly"]):
        fail(
            f"red flags are {sorted(flags)}, expected exactly {sorted(expect['red_flags_exactly'])}"
        )
    evidence = {str(f["id"]): list(f["evidence"]) for f in body["red_flags"]}
    for flag, fields in expect.get("evidence", {}).items():
        missing = [f for f in fields if f not in evidence.get(flag, [])]
        if missing:
            fail(f"red flag {flag} evidence {evidence.get(flag)} lacks {missing}")

    causes = _ids(body["causes"])
    if "top_cause" in expect and (not causes or causes[0] != expect["top_cause"]):
        fail(f"top cause is {causes[0] if causes else None}, expected {expect['top_cause']}")
    if "top_causes" in expect:
        top = causes[: len(expect["top_causes"])]
        if set(top) != set(expect["top_causes"]):
            fail(f"top causes are {top}, expected {expect['top_causes']} in any order")
    _present(fail, "cause", causes, expect.get("causes", ()))
    _absent(fail, "cause", causes, expect.get("not_causes", ()))
    likelihood = {str(c["id"]): str(c["likelihood"]) for c in body["causes"]}
    for cause, wanted in expect.get("likelihood", {}).items():
        got = likelihood.get(cause)
        if wanted == "likely" and got != "likely":
            fail(f"cause {cause} is {got or 'absent'}, expected likely")
        if wanted == "possible" and got == "likely":
            fail(f"cause {cause} is likely, expected at most possible")

    recs = _ids(body["recommendations"])
    types = {str(r["type"]) for r in body["recommendations"]}
    _present(fail, "recommendation", recs, expect.get("recommendations", ()))
    _absent(fail, "recommendation", recs, expect.get("not_recommendations", ()))
    _absent(fail, "recommendation type", sorted(types), expect.get("not_recommendation_types", ()))

    questions = _ids(body["questions"], "field")
    _present(fail, "question", questions, expect.get("questions", ()))
    _absent(fail, "question", questions, expect.get("not_questions", ()))
    first = expect.get("questions_first", [])
    if first and set(questions[: len(first)]) != set(first):
        fail(f"first questions are {questions[: len(first)]}, expected {first} in any order")
    if expect.get("no_questions") and questions:
        fail(f"expected no questions, got {questions}")

    codes = _ids(body["warnings"], "code")
    _present(fail, "warning", codes, expect.get("warnings", ()))
    if expect.get("no_warnings") and codes:
        fail(f"expected no warnings, got {codes}")
    return result


def _present(
    fail: Callable[[str], None], kind: str, got: Sequence[str], wanted: Sequence[str]
) -> None:
    missing = [w for w in wanted if w not in got]
    if missing:
        fail(f"missing {kind} {missing}; got {list(got)}")


def _absent(
    fail: Callable[[str], None], kind: str, got: Sequence[str], banned: Sequence[str]
) -> None:
    present = [b for b in banned if b in got]
    if present:
        fail(f"unexpected {kind} {present}; got {list(got)}")
