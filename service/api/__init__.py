"""The HTTP layer: blueprints, problem+json errors, API keys, security headers.

Only this package maps exceptions to HTTP statuses (``service.api.errors``).
"""

from __future__ import annotations

from flask import Flask

from service.api import assess, docs, health, rules, spec
from service.api.auth import register_api_keys
from service.api.errors import register_error_handlers
from service.api.headers import register_security_headers

__all__ = ["register_blueprints", "register_error_handlers", "register_security_headers"]


def register_blueprints(app: Flask) -> None:
    """Mount every popcheck endpoint except ``/metrics`` (registered by observability);
    ``/assess`` and ``/rules`` need an API key when keys are configured."""
    register_api_keys(app, protected=(assess.bp.name, rules.bp.name))
    app.register_blueprint(assess.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(spec.create_blueprint())
    app.register_blueprint(docs.bp)
