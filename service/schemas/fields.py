"""Strict JSON fields.

marshmallow's stock fields coerce: ``Integer`` takes ``"7"`` and ``2.5`` (as 2), ``Boolean``
takes ``"yes"`` and ``1``, ``Float`` takes ``"nan"``. A triage service must not guess what a
person meant, so these fields accept exactly what the JSON Schema types in ``openapi.yaml``
accept and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import fields


def _is_json_number(value: object) -> bool:
    # bool is a subclass of int in Python, but `true` is not a number in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


class StrictInteger(fields.Field[int]):
    """A JSON Schema ``integer``: ``14`` and ``14.0`` load as ``14``; ``14.5``, ``"14"``,
    ``true`` and non-finite numbers are invalid."""

    default_error_messages = {"invalid": "Not a valid integer."}

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        if not _is_json_number(value):
            raise self.make_error("invalid")
        if isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise self.make_error("invalid")
            return int(value)
        return int(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else int(value)


class StrictNumber(fields.Field[float | int]):
    """A JSON Schema ``number``: any finite int or float; never a bool or a string."""

    default_error_messages = {"invalid": "Not a valid number."}

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> float | int:
        if not _is_json_number(value):
            raise self.make_error("invalid")
        # 1e309 parses as inf: valid JSON text, but no answer the tables can reason about.
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        number: float | int = value
        return number

    def _serialize(
        self, value: Any, attr: str | None, obj: Any, **kwargs: Any
    ) -> float | int | None:
        return None if value is None else value


class StrictBoolean(fields.Field[bool]):
    """A JSON ``true`` or ``false``; ``1``, ``"true"`` and ``"yes"`` are invalid."""

    default_error_messages = {"invalid": "Not a valid boolean."}

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> bool | None:
        return None if value is None else bool(value)
