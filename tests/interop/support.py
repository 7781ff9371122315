"""Build a QuestionnaireResponse by walking the served Questionnaire, as an app would."""

from __future__ import annotations

from typing import Any

_VALUE = {"boolean": "valueBoolean", "integer": "valueInteger", "decimal": "valueDecimal"}


def _answers(item: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    if item["type"] != "choice":
        return [{_VALUE[item["type"]]: value}]
    codings = {o["valueCoding"]["code"]: o["valueCoding"] for o in item["answerOption"]}
    if item.get("repeats"):
        return [{"valueCoding": codings[code]} for code in (value or ["none"])]
    return [{"valueCoding": codings[value]}]


def _lookup(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    return node


def response_for(questionnaire: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The QuestionnaireResponse answering ``questionnaire`` with the JSON ``document``."""

    def walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
