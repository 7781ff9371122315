"""``GET /rules``: the loaded ruleset and the vocabulary of every id it can return."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service.api.auth import require_api_key
from service.state import get_state

bp = Blueprint("rules", __name__)
bp.before_request(require_api_key)


@bp.get("/rules")
def rules() -> Response:
    """Name, version, digest, tables and vocabulary (``Assessor.describe()``)."""
    return jsonify(get_state().assessor.describe())
