"""One way in: a parsed JSON request, validated by the contract's schema, then assessed.

``POST /assess`` and ``popcheck assess`` both call ``assess_document``, so what one accepts
the other accepts, with the same messages. A request that fails validation raises
``InvalidRequest`` with every problem by field path; the HTTP layer answers it as 422.

Validation runs the fast loader compiled from the schema (``schemas.fastpath``), which
answers valid documents exactly as ``schema.load`` would; marshmallow itself runs whenever
the fast loader declines, so every error message is marshmallow's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from popcheck.assessment import Assessor
from popcheck.schemas import AssessmentRequestSchema, flatten_messages
from popcheck.schemas.fastpath import compile_loader

__all__ = ["InvalidRequest", "assess_document", "load_request"]

# Built once: a marshmallow schema keeps no state between loads, and building one per
# request is a measurable share of the request's cost.
_SCHEMA = AssessmentRequestSchema()
_FAST_LOAD = compile_loader(_SCHEMA)


class InvalidRequest(ValueError):
    """The document fails validation; ``errors`` maps each dotted field path
    (``pain.level``, ``muscles.tight.2``; ``""`` for the document itself) to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = dict(errors)


def load_request(document: Mapping[str, Any]) -> dict[str, Any]:
    """The validated request (nested, unanswered fields absent or ``None``)."""
    fast = _FAST_LOAD(document)
    if fast is not None:
        return fast
    try:
        loaded: dict[str, Any] = _SCHEMA.load(document)
    except ValidationError as exc:
        raise InvalidRequest(flatten_messages(exc.messages)) from None
    return loaded


def assess_document(
    assessor: Assessor,
    document: Mapping[str, Any],
    *,
    explain: bool = False,
    fired: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Validate ``document`` and assess it: the ``Assessment`` body without ``id``.

    Raises:
        InvalidRequest: the document fails validation.
    """
    return assessor.assess(load_request(document), explain=explain, fired=fired)
