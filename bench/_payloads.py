"""The request mix every HTTP-level benchmark sends: the persona examples in ``examples/``
plus valid requests generated from ``openapi.yaml`` with a fixed seed.

Generated requests answer a random subset of the fields (absent, ``null`` and ``false`` all
occur), so the mix exercises partial matches and questions as real callers do, not only the
five tidy personas.

The same mix as FHIR QuestionnaireResponses (``questionnaire_response_mix``): each JSON
request's answers given to the served Questionnaire (``GET /fhir/Questionnaire/
popcheck-intake``) by walking it as an app would (``questionnaire_response``), items nested
as its groups are. The interop tests build their responses with the same walk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED = 7


def examples() -> list[dict[str, Any]]:
    """The persona requests, in name order."""
    return [json.loads(path.read_text()) for path in sorted((ROOT / "examples").glob("*.json"))]


class _Generator:
    def __init__(self, spec: Mapping[str, Any], rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        if ref is None:
            return schema
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return self.resolve(node)

    def obj(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        node = self.resolve(schema)
        required = set(node.get("required", ()))
        out: dict[str, Any] = {}
        for name, raw in node["properties"].items():
            roll = self.rng.random()
            if name not in required and roll < 0.35:
                continue  # not asked
            if name not in required and roll < 0.42:
                out[name] = None  # asked, not answered
                continue
            out[name] = self.value(raw)
        return out

    def value(self, raw: Mapping[str, Any]) -> Any:
        options = [self.resolve(option) for option in raw.get("oneOf", [raw])]
        objects = [option for option in options if "properties" in option]
        if objects:
            return self.obj(objects[0])
        # A nullable enum is oneOf its component and {type: 'null'}: draw from the component.
        (raw,) = [option for option in options if option.get("type") != "null"]
        kinds = raw["type"] if isinstance(raw["type"], list) else [raw["type"]]
        kind = next(k for k in kinds if k != "null")
        rng = self.rng
        if kind == "boolean":
            return rng.random() < 0.3
        if kind == "integer":
            low, high = int(raw["minimum"]), int(raw["maximum"])
            # Most answers are small numbers; keep the huge ranges (minutes) plausible.
            return rng.randint(low, min(high, low + 400))
        if kind == "number":
            return round(rng.uniform(raw["minimum"], raw["maximum"]), 1)
        if kind == "string":
            return rng.choice([value for value in raw["enum"] if value is not None])
        if kind == "array":
            choices = [value for value in self.resolve(raw["items"])["enum"] if value]
            return rng.sample(choices, rng.randint(0, min(3, len(choices))))
        raise ValueError(f"no generator for {kind!r}")


def generated(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` valid requests drawn from the spec's ``AssessmentRequest``."""
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    generator = _Generator(spec, random.Random(seed))
    request_schema = spec["components"]["schemas"]["AssessmentRequest"]
    return [generator.obj(request_schema) for _ in range(count)]


def payload_mix(count: int = 50) -> list[bytes]:
    """The personas, then generated requests up to ``count``; compact JSON bodies."""
    documents = examples()
    documents += generated(max(0, count - len(documents)))
    return [json.dumps(document, separators=(",", ":")).encode() for document in documents]


_VALUE_KEYS = {"boolean": "valueBoolean", "integer": "valueInteger", "decimal": "valueDecimal"}
#: The multi-choice option that says "none of them" (``[]`` in JSON).
_NONE_CODE = "none"


def _answers(item: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    if item["type"] != "choice":
        return [{_VALUE_KEYS[item["type"]]: value}]
    codings = {o["valueCoding"]["code"]: o["valueCoding"] for o in item["answerOption"]}
    if item.get("repeats"):
        return [{"valueCoding": codings[code]} for code in (value or [_NONE_CODE])]
    return [{"valueCoding": codings[value]}]


def _lookup(document: Mapping[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return None
        node = node[part]
    return node


def questionnaire_response(
    questionnaire: Mapping[str, Any], document: Mapping[str, Any]
) -> dict[str, Any]:
    """The QuestionnaireResponse answering ``questionnaire`` (the served resource) with the
    JSON request ``document``: one item per answered field, inside its group; a field that is
    absent or ``null`` is left out (unanswered), ``[]`` is the ``none`` option."""

    def walk(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            if item["type"] == "group":
                children = walk(item["item"])
                if children:
                    out.append({"linkId": item["linkId"], "item": children})
                continue
            value = _lookup(document, item["linkId"])
            if value is None:
                continue
            out.append({"linkId": item["linkId"], "answer": _answers(item, value)})
        return out

    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "item": walk(questionnaire["item"]),
    }


def served_questionnaire() -> dict[str, Any]:
    """The Questionnaire the service serves (``GET /fhir/Questionnaire/popcheck-intake``
    through the test client of an app with the default settings)."""
    from popcheck.app import create_app

    client = create_app({"TESTING": True}).test_client()
    response = client.get("/fhir/Questionnaire/popcheck-intake")
    if response.status_code != 200:
        raise RuntimeError(f"no Questionnaire ({response.status_code})")
    resource: dict[str, Any] = json.loads(response.get_data())
    return resource


def questionnaire_response_mix(payloads: Sequence[bytes] | None = None) -> list[bytes]:
    """``payloads`` (default: ``payload_mix()``) as QuestionnaireResponses to the served
    Questionnaire, in the same order; compact JSON bodies for ``application/fhir+json``."""
    if payloads is None:
        payloads = payload_mix()
    questionnaire = served_questionnaire()
    return [
        json.dumps(
            questionnaire_response(questionnaire, json.loads(body)), separators=(",", ":")
        ).encode()
        for body in payloads
    ]
