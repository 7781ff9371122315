"""A ``QuestionnaireResponse`` to the intake's Questionnaire, as the JSON request document.

The answers are only moved, never judged here: ``{"linkId": "pain.level", "answer":
[{"valueInteger": 7}]}`` inside the ``pain`` group becomes ``{"pain": {"level": 7}}``, and the
document then goes through the same validation as a JSON request (ranges, required ``age``),
whose errors name the same paths, which are the ``linkId``s. What only a response can get
wrong is refused here, keyed by ``linkId``: an item the Questionnaire does not have, an item
outside its group, a repeated item, an answer of the wrong type or code, several answers to a
question that does not repeat, and a ``questionnaire`` other than popcheck's.

An item without ``answer`` is unanswered. A multi-choice answer is a list of codes; the code
``none`` alone is ``[]`` ("none of them").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from popcheck.fhir.questionnaire import NONE_CODE, VALUE_KEYS, IntakeForm

__all__ = ["MAX_ERRORS", "InvalidResponse", "document_from_response"]

#: At most this many items are named in one answer: a hostile 10,000-item response gets a
#: short problem document, not one entry per item.
MAX_ERRORS: Final = 20
_MORE = "…"
_STATUSES: Final = frozenset({"in-progress", "completed", "amended"})
#: What an answer may hold besides its ``value[x]``, by that key.
_ANSWER_KEYS: Final = {key: frozenset({key, "extension", "id"}) for key in set(VALUE_KEYS.values())}


class InvalidResponse(ValueError):
    """The resource is not a usable QuestionnaireResponse to the intake; ``errors`` maps each
    ``linkId`` (or the resource element, ``questionnaire``) to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} invalid item(s)")
        self.errors = dict(errors)


class _Reader:
    def __init__(self, form: IntakeForm) -> None:
        self.form = form
        self.errors: dict[str, list[str]] = {}
        self.document: dict[str, Any] = {}
        self.seen: set[str] = set()

    def error(self, key: str, message: str) -> None:
        if key in self.errors:
            if message not in self.errors[key]:
                self.errors[key].append(message)
        elif len(self.errors) < MAX_ERRORS:
            self.errors[key] = [message]
        else:
            self.more()

    def more(self) -> None:
        self.errors.setdefault(_MORE, [f"More is wrong; only {MAX_ERRORS} items are named."])

    def items(self, items: Any, where: str, group: str | None) -> None:
        if not isinstance(items, list):
            self.error(where, "'item' must be a list of items.")
            return
        # Every item appears at most once, so a longer list is refused whole, unread.
        most = len(self.form.fields) + len(self.form.groups)
        if len(items) > most:
            self.error(where, f"More items than the Questionnaire has ({most}).")
            return
        for index, item in enumerate(items):
            if len(self.errors) >= MAX_ERRORS:
                self.more()
                return
            self.item(item, where, index, group)

    def item(self, item: Any, where: str, index: int, group: str | None) -> None:
        """Read the ``index``-th item of the list at ``where`` (``item``, ``pain``), named
        ``where.index`` in an error when it has no usable ``linkId``."""
        if not isinstance(item, dict):
            self.error(f"{where}.{index}", "An item must be an object.")
            return
        link_id = item.get("linkId")
        if not isinstance(link_id, str) or not link_id:
            self.error(f"{where}.{index}", "An item needs a 'linkId' (a string).")
            return
        if link_id in self.seen:
            self.error(link_id, "This item appears more than once.")
            return
        self.seen.add(link_id)
        form = self.form
        if link_id in form.groups:
            if group is not None:
                self.error(link_id, "A group item belongs at the root of the response.")
                return
            if "answer" in item:
                self.error(link_id, "A group item has no answer.")
                return
            if "item" in item:
                self.items(item["item"], link_id, link_id)
            return
        spec = form.fields.get(link_id)
        if spec is None:
            self.error(link_id, "The Questionnaire has no item with this linkId.")
            return
        if spec.section != group:
            self.error(
                link_id,
                "This item belongs at the root of the response."
                if spec.section is None
                else f"This item belongs in the group '{spec.section}'.",
            )
            return
        if "item" in item:
            self.error(link_id, "A question item has no nested items.")
            return
        if "answer" not in item:
            return  # unanswered
        answers = item["answer"]
        if not isinstance(answers, list):
            self.error(link_id, "'answer' must be a list.")
            return
        if not answers:
            return
        value = self.value(link_id, answers)
        if value is _INVALID:
            return
        if spec.section is None:
            self.document[link_id] = value
        else:
            self.document.setdefault(spec.section, {})[link_id.split(".", 1)[1]] = value

    def value(self, link_id: str, answers: list[Any]) -> Any:
        spec = self.form.fields[link_id]
        key = self.form.value_keys[link_id]
        if spec.type != "multi_choice" and len(answers) > 1:
            self.error(link_id, "This question takes one answer.")
            return _INVALID
        if len(answers) > max(len(spec.options or ()), 1) + 1:
            self.error(link_id, "More answers than the question has options.")
            return _INVALID
        values: list[Any] = []
        for answer in answers:
            if not isinstance(answer, dict) or key not in answer:
                self.error(link_id, f"The answer must be '{key}' ({spec.type}).")
                return _INVALID
            if not answer.keys() <= _ANSWER_KEYS[key]:
                self.error(link_id, f"An answer holds '{key}' and nothing else.")
                return _INVALID
            value = self.scalar(link_id, key, answer[key])
            if value is _INVALID:
                return _INVALID
            values.append(value)
        if spec.type != "multi_choice":
            return values[0]
        if NONE_CODE in values:
            if len(values) > 1:
                self.error(link_id, f"'{NONE_CODE}' cannot be chosen with another option.")
                return _INVALID
            return []
        return values

    def scalar(self, link_id: str, key: str, raw: Any) -> Any:
        if key == "valueBoolean":
            if isinstance(raw, bool):
                return raw
        elif key == "valueInteger":
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
        elif key == "valueDecimal":
            if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
                return raw
        else:
            return self.code(link_id, raw)
        self.error(link_id, f"'{key}' has the wrong type.")
        return _INVALID

    def code(self, link_id: str, coding: Any) -> Any:
        system = self.form.systems[link_id]
        if not isinstance(coding, dict) or not isinstance(coding.get("code"), str):
            self.error(link_id, "'valueCoding' needs a 'code' (a string).")
            return _INVALID
        if coding.get("system", system) != system:
            self.error(link_id, f"The code system must be '{system}'.")
            return _INVALID
        code = coding["code"]
        if code not in self.form.codes[link_id]:
            self.error(link_id, f"'{code[:64]}' is not one of the answer options.")
            return _INVALID
        return code


_INVALID: Final = object()


def _questionnaire_matches(form: IntakeForm, canonical: Any) -> bool:
    if not isinstance(canonical, str):
        return False
    url, _, _version = canonical.partition("|")
    return url == form.url


def document_from_response(form: IntakeForm, resource: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON request document the response's answers make.

    Raises:
        InvalidResponse: not a QuestionnaireResponse to ``form`` (errors by ``linkId``).
    """
    if resource.get("resourceType") != "QuestionnaireResponse":
        raise InvalidResponse({"resourceType": ["Send a QuestionnaireResponse."]})
    reader = _Reader(form)
    if not _questionnaire_matches(form, resource.get("questionnaire")):
        reader.error("questionnaire", f"Answer the Questionnaire '{form.url}'.")
    status = resource.get("status", "completed")
    if not isinstance(status, str) or status not in _STATUSES:
        reader.error("status", f"The status must be one of {', '.join(sorted(_STATUSES))}.")
    if "item" in resource:
        reader.items(resource["item"], "item", None)
    if reader.errors:
        raise InvalidResponse(reader.errors)
    return reader.document
