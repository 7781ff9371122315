"""The three kinds of object the contract has, as marshmallow base schemas, and field
metadata: every schema module builds on these instead of declaring its own.

- ``ClosedSchema``: unknown members are errors (the request at every level; the bodies
  popcheck itself answers, where an unknown member is a contract break);
- ``OpenSchema``: unknown members are kept (FHIR resources and CDS Hooks bodies, which carry
  far more than popcheck reads);
- ``TolerantSchema``: unknown members are dropped (bodies a caller must read leniently:
  problem details' extension members, a trace that grows between ruleset versions).

Each also states ``additionalProperties`` in ``openapi.yaml`` accordingly
(``schemas.openapi``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema

__all__ = ["ClosedSchema", "OpenSchema", "TolerantSchema", "described"]


class ClosedSchema(Schema):
    """Unknown members raise, at every nesting level."""

    class Meta:
        unknown = RAISE


class OpenSchema(Schema):
    """Unknown members are loaded as they are."""

    class Meta:
        unknown = INCLUDE


class TolerantSchema(Schema):
    """Unknown members are ignored."""

    class Meta:
        unknown = EXCLUDE


def described(description: str, **more: Any) -> dict[str, Any]:
    """Field metadata: the caller-facing description that apispec copies into
    ``openapi.yaml``, plus ``more`` (a ``COMPONENT`` name, a ``unit``, ``labels``)."""
    return {"description": description, **more}
