"""``GET /rules``: the loaded ruleset and the vocabulary of every id it can return."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from popcheck.state import get_state

# Needs an API key when keys are configured (``popcheck.api.register_blueprints``).
bp = Blueprint("rules", __name__)


@bp.get("/rules")
def rules() -> Response:
    """Name, version, digest, tables and vocabulary (``Assessor.describe()``)."""
    return jsonify(get_state().assessor.describe())
