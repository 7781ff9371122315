"""Strict JSON for request bodies: RFC 8259 text whose top level is an object.

Python's ``json`` accepts ``NaN`` and ``Infinity`` and keeps the last of two equal keys; a
triage request must not be read as something the caller did not send, so both are refused
here. ``POST /assess`` and ``popcheck assess`` read every request through
``parse_json_object``; a refusal is a ``MalformedJson`` whose message says what is wrong
(the HTTP layer answers it as 400).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NoReturn

import orjson

__all__ = ["MalformedJson", "parse_json_object"]


class MalformedJson(ValueError):
    """The text is not a JSON object; the message says why, in words for the caller."""


class NonJsonConstantError(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json accepts them, RFC 8259 does not."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a JSON number")
        self.name = name


def _reject_constant(name: str) -> NoReturn:
    raise NonJsonConstantError(name)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With duplicates, json.loads keeps the last value silently. For symptom answers that is
    # a guess about what the person meant, so a duplicate key is a malformed body.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return obj


class DuplicateKeyError(ValueError):
    """An object in the body names the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def parse_json_object(data: bytes) -> dict[str, Any]:
    """Strict JSON (UTF-8, no NaN/Infinity, no duplicate keys) whose top level is an object."""
    document = _parse_plain_object(data)
    if document is not None:
        return document
    return _parse_strictly(data)


# Beyond this many brackets the strict parser (below) might run out of recursion where
# orjson, whose limit is 1024 levels, would not. A request nests two levels deep.
_PLAIN_MAX_BRACKETS = 64
# orjson turns an integer beyond 64 bits into a float where the standard library keeps an
# int; any float this large is left to the strict parser.
_LONG_INTEGER_FLOAT = float(2**63)


def _parse_plain_object(data: bytes) -> dict[str, Any] | None:
    """orjson's reading of ``data`` when it is provably what ``_parse_strictly`` returns, else
    ``None``.

    The strict parser costs about 6 µs for a typical request (its duplicate-key hook runs in
    Python for every object), orjson about 1 µs. orjson refuses everything the strict parser
    refuses except duplicate keys (it keeps the last), deep nesting and integers beyond 64
    bits, which are checked here; every refusal goes to the strict parser, whose message the
    caller gets. Every key in JSON text is followed by a colon, and outside strings a colon
    appears nowhere else, so when the parsed objects hold as many keys as the text has colons,
    no key was dropped as a duplicate (a colon inside a string just means the strict path).
    """
    if data.count(b"{") + data.count(b"[") > _PLAIN_MAX_BRACKETS:
        return None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(document) is not dict or _count_keys(document) != data.count(b":"):
        return None
    return document


def _count_keys(node: dict[str, Any] | list[Any]) -> int:
    """The keys of every object in ``node``, or -1 for a float that may have been a long int."""
    if type(node) is dict:
        count = len(node)
        values: Iterable[Any] = node.values()
    else:
        count = 0
        values = node
    for value in values:
        kind = type(value)
        if kind is dict or kind is list:
            inner = _count_keys(value)
            if inner < 0:
                return -1
            count += inner
        elif kind is float and not -_LONG_INTEGER_FLOAT < value < _LONG_INTEGER_FLOAT:
            return -1
    return count


def _parse_strictly(data: bytes) -> dict[str, Any]:
    """The reference reading of a body, with a precise message for each way it can fail."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("The body is not valid UTF-8.") from None
    if text.startswith("\ufeff"):
        # RFC 8259 8.1: a sender must not add a byte order mark; a parser may ignore one.
        # Refused, so the app, the fast path and `popcheck assess` read bytes one way, and
        # the message says what to change (usually an editor's "UTF-8 with BOM" setting).
        raise MalformedJson(
            "The body starts with a byte order mark (BOM); send JSON as UTF-8 without one."
        )
    if not text.strip():
        raise MalformedJson("The body is empty; send a JSON object.")
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_keys
        )
    except RecursionError:
        raise MalformedJson("The body is nested too deeply to be a request.") from None
    except json.JSONDecodeError as exc:
        raise MalformedJson(
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    except NonJsonConstantError as exc:
        raise MalformedJson(
            f"The body is not valid JSON: {exc.name} is not a JSON number."
        ) from None
    except DuplicateKeyError as exc:
        raise MalformedJson(
            f"The body is not valid: an object repeats the key {exc.key!r}."
        ) from None
    except ValueError:
        # An integer with more digits than Python converts (sys.get_int_max_str_digits()).
        raise MalformedJson("The body contains a number too long to represent.") from None
    if not isinstance(document, dict):
        raise MalformedJson("The body must be a JSON object.")
    return document
