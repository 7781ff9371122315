"""The HTTP layer: blueprints, problem+json errors, API keys, security headers.

Only this package maps exceptions to HTTP statuses (``popcheck.api.errors``).
"""

from __future__ import annotations

from flask import Flask

from popcheck.api import assess, cds, docs, fhir, headers, health, rules, spec
from popcheck.api.auth import register_api_keys
from popcheck.api.errors import register_error_handlers
from popcheck.state import get_state

__all__ = ["register_blueprints", "register_error_handlers", "register_security_headers"]


def register_security_headers(app: Flask) -> None:
    """Security headers on every response; ``Cache-Control: no-store`` on every answer of
    ``/assess``, errors included: assessments, and errors that name their fields, are health
    data and must never be cached."""
    headers.register_security_headers(app, no_store=(assess.bp.name, cds.SERVICE))


def register_blueprints(app: Flask) -> None:
    """Mount every popcheck endpoint except ``/metrics`` (registered by observability);
    ``/assess``, ``/rules`` and the FHIR Questionnaire need an API key when keys are
    configured."""
    protected: tuple[str, ...] = (assess.bp.name, rules.bp.name, "fhir")
    if cds.service_needs_api_key(app):
        protected += (cds.SERVICE,)
    register_api_keys(app, protected=protected)
    app.register_blueprint(assess.bp)
    app.register_blueprint(fhir.create_blueprint(get_state(app).intake))
    cds.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(spec.create_blueprint())
    app.register_blueprint(docs.bp)
