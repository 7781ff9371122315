"""The application factory: the only place where popcheck is wired together.

gunicorn runs ``service.app:create_app()``; tests call ``create_app({...})``.
Nothing is read from the environment or the disk at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from flask import Flask

from service.api import register_blueprints, register_error_handlers, register_security_headers
from service.assessment import load_assessor
from service.config import ConfigError, Settings, load_settings
from service.observability import register_observability
from service.state import ServiceState

_SETTING_NAMES = {f.name for f in fields(Settings)}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` keys that name a setting (``rules_dir``, ``max_body_bytes``,
    ...) override the environment; any other key goes to ``app.config`` (e.g. ``TESTING``).

    Raises ``service.engine.RuleError`` (naming file and rule) when the ruleset is broken,
    so a bad deploy refuses to start instead of answering wrongly.
    """
    config = dict(config or {})
    overrides = {k: v for k, v in config.items() if k.lower() in _SETTING_NAMES}
    flask_config = {k: v for k, v in config.items() if k.lower() not in _SETTING_NAMES}
    # Flask's own keys are upper case; anything else is a mistyped setting (``max_body``),
    # which must not vanish silently into app.config.
    mistyped = sorted(k for k in flask_config if not k.isupper())
    if mistyped:
        raise ConfigError(f"unknown setting(s): {', '.join(mistyped)}")

    settings = load_settings(overrides)
    # No static folder: the API serves no files of its own, and Flask's default
    # /static/<path> rule would be an undocumented route.
    app = Flask(__name__, static_folder=None)
    app.config.update(flask_config)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Keep the order the pipeline builds (id, ruleset, urgency, ...): it is how people read it.
    app.json.sort_keys = False  # type: ignore[attr-defined]

    assessor = load_assessor(settings.rules_dir)
    app.extensions["popcheck"] = ServiceState(settings=settings, assessor=assessor)

    register_observability(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_blueprints(app)
    return app
