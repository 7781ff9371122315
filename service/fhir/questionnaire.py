"""The FHIR R4 ``Questionnaire`` of popcheck's intake, built once at start-up, never by hand.

One item per request field (``request_fields()``, the request contract), ``linkId`` the dotted
field path; the fields of a section (``pain``, ``neuro``, ...) in a ``group`` item whose
``linkId`` is the section's name, the top-level fields (``age``, ``onset``, ...) at the root.
The text of an item is the catalog's question, so an app asks what the service asks.

Types: ``boolean``, ``integer``, ``decimal`` (a JSON ``number``) and ``choice`` with
``answerOption`` codings in one code system per field (``<base>/CodeSystem/<field>``);
a multi-choice field ``repeats`` and has one more option, ``none`` (marked with the
``questionnaire-optionExclusive`` extension), which is how a QuestionnaireResponse says
"none of them" (``[]`` in JSON): FHIR has no empty answer list. Ranges and units go in the
standard ``minValue``/``maxValue`` and ``questionnaire-unit`` extensions.

A follow-up question (catalog ``follows``) is asked while not every lead was answered "no".
FHIR's ``enableWhen`` only sees answers, so that is written as: for each lead, "answered
yes" (``operator "="``, ``answerBoolean true``) or "not answered" (``operator "exists"``,
``answerBoolean false``), with ``enableBehavior: any``. (``"!=" false`` would say the same
only where a form engine treats an unanswered lead as "not equal to false", which R4 leaves
open; the pair leaves nothing to interpretation.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from popcheck.schemas.interview import FieldSpec, request_fields
from popcheck.schemas.request import AssessmentRequestSchema

__all__ = [
    "FHIR_JSON",
    "NONE_CODE",
    "QUESTIONNAIRE_ID",
    "VALUE_KEYS",
    "IntakeForm",
    "build_intake_form",
]

FHIR_JSON: Final = "application/fhir+json"
QUESTIONNAIRE_ID: Final = "popcheck-intake"
#: The extra option of a multi-choice item that stands for "none of them" (``[]``).
NONE_CODE: Final = "none"

_ITEM_TYPES: Final[Mapping[str, str]] = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "decimal",
    "choice": "choice",
    "multi_choice": "choice",
}
#: The answer's ``value[x]`` key for each question type.
VALUE_KEYS: Final[Mapping[str, str]] = {
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "number": "valueDecimal",
    "choice": "valueCoding",
    "multi_choice": "valueCoding",
}
_UCUM: Final = "http://unitsofmeasure.org"
_UCUM_CODES: Final[Mapping[str, str]] = {
    "minutes": "min",
    "hours": "h",
    "days": "d",
    "years": "a",
    "days per week": "d/wk",
}
_EXT: Final = "http://hl7.org/fhir/StructureDefinition/"


@dataclass(frozen=True)
class IntakeForm:
    """The Questionnaire and what reading a response to it needs, prepared at start-up."""

    url: str
    version: str
    #: The ``Questionnaire`` resource, and the same as the bytes served.
    resource: Mapping[str, Any]
    body: bytes
    #: By ``linkId`` of a question item: the request field it answers.
    fields: Mapping[str, FieldSpec]
    #: By ``linkId`` of a group item: the ``linkId``s of its questions.
    groups: Mapping[str, frozenset[str]]
    #: By question ``linkId``: the answer's ``value[x]`` key.
    value_keys: Mapping[str, str]
    #: By choice question ``linkId``: its code system.
    systems: Mapping[str, str]
    #: By choice question ``linkId``: the codes an answer may give (a multi-choice question's
    #: exclusive ``none`` included), built once rather than for every answer read.
    codes: Mapping[str, frozenset[str]]


def _section_titles() -> dict[str, str]:
    titles: dict[str, str] = {}
    for name, field in AssessmentRequestSchema().fields.items():
        nested = getattr(field, "schema", None)
        if nested is None:
            continue
        doc = (type(nested).__doc__ or name).strip().splitlines()[0]
        about = doc.split(": ", 1)[-1].rstrip(".")
        titles[field.data_key or name] = about[:1].upper() + about[1:]
    return titles


def _number_extensions(spec: FieldSpec) -> list[dict[str, Any]]:
    value = "valueInteger" if spec.type == "integer" else "valueDecimal"
    extensions: list[dict[str, Any]] = []
    if spec.minimum is not None:
        extensions.append({"url": f"{_EXT}minValue", value: spec.minimum})
    if spec.maximum is not None:
        extensions.append({"url": f"{_EXT}maxValue", value: spec.maximum})
    if spec.unit is not None:
        coding = {"display": spec.unit}
        if spec.unit in _UCUM_CODES:
            coding = {"system": _UCUM, "code": _UCUM_CODES[spec.unit], "display": spec.unit}
        extensions.append({"url": f"{_EXT}questionnaire-unit", "valueCoding": coding})
    return extensions


def _enable_when(leads: Sequence[str]) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    for lead in leads:
        conditions.append({"question": lead, "operator": "=", "answerBoolean": True})
        conditions.append({"question": lead, "operator": "exists", "answerBoolean": False})
    return {"enableWhen": conditions, "enableBehavior": "any"}


def _item(spec: FieldSpec, text: str, leads: Sequence[str], system: str) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": spec.path, "text": text, "type": _ITEM_TYPES[spec.type]}
    if spec.type in ("integer", "number"):
        extensions = _number_extensions(spec)
        if extensions:
            item = {"extension": extensions, **item}
    if leads:
        item.update(_enable_when(leads))
    if spec.required:
        item["required"] = True
    if spec.type == "multi_choice":
        item["repeats"] = True
    if spec.options is not None:
        options: list[dict[str, Any]] = [
            {"valueCoding": {"system": system, "code": option.value, "display": option.label}}
            for option in spec.options
        ]
        if spec.type == "multi_choice":
            if any(option.value == NONE_CODE for option in spec.options):
                raise ValueError(f"{spec.path}: the option {NONE_CODE!r} is reserved")
            options.append(
                {
                    "extension": [
                        {"url": f"{_EXT}questionnaire-optionExclusive", "valueBoolean": True}
                    ],
                    "valueCoding": {"system": system, "code": NONE_CODE, "display": "None"},
                }
            )
        item["answerOption"] = options
    return item


def build_intake_form(
    base: str,
    version: str,
    questions: Mapping[str, tuple[str, tuple[str, ...]]],
) -> IntakeForm:
    """The intake's Questionnaire under the canonical ``base`` (no trailing slash), for the
    ruleset ``version``, with the catalog's ``questions`` (``{field: (text, leads)}``)."""
    specs = request_fields()
    url = f"{base}/Questionnaire/{QUESTIONNAIRE_ID}"
    titles = _section_titles()
    root: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    members: dict[str, set[str]] = {}
    systems: dict[str, str] = {}
    for path, spec in specs.items():
        text, leads = questions.get(path, (spec.description, ()))
        system = f"{base}/CodeSystem/{path}"
        if spec.options is not None:
            systems[path] = system
        item = _item(spec, text, leads, system)
        if spec.section is None:
            root.append(item)
            continue
        group = groups.get(spec.section)
        if group is None:
            group = {
                "linkId": spec.section,
                "text": titles.get(spec.section, spec.section),
                "type": "group",
                "item": [],
            }
            groups[spec.section] = group
            root.append(group)
        group["item"].append(item)
        members.setdefault(spec.section, set()).add(path)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": url,
        "version": version,
        "name": "PopcheckIntake",
        "title": "popcheck: back triage intake",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "The questions popcheck's assessment reads, one item per request field (linkId = "
            "the field path). Only age is required; an unanswered question is not a 'no'."
        ),
        "item": root,
    }
    return IntakeForm(
        url=url,
        version=version,
        resource=resource,
        body=json.dumps(resource, ensure_ascii=False).encode("utf-8"),
        fields=dict(specs),
        groups={name: frozenset(paths) for name, paths in members.items()},
        value_keys={path: VALUE_KEYS[spec.type] for path, spec in specs.items()},
        systems=systems,
        codes={
            path: frozenset(option.value for option in spec.options)
            | ({NONE_CODE} if spec.type == "multi_choice" else set())
            for path, spec in specs.items()
            if spec.options is not None
        },
    )
