"""The application factory: the only place where popcheck is wired together.

gunicorn runs ``popcheck.app:create_app()``; tests call ``create_app({...})``.
Nothing is read from the environment or the disk at import time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from itertools import chain
from typing import Any

from flask import Flask, Response

from popcheck.api import register_blueprints, register_error_handlers, register_security_headers
from popcheck.assessment import load_assessor
from popcheck.assessment.prepared import question_entries
from popcheck.config import ConfigError, Settings, load_settings
from popcheck.fhir import build_intake_form
from popcheck.observability import register_observability
from popcheck.state import ServiceState

_SETTING_NAMES = {f.name for f in fields(Settings)}


class PopcheckFlask(Flask):
    """Flask, with the sync check of the app's own functions done once instead of per call.

    Flask passes every hook, view and error handler through ``ensure_sync`` on every request,
    and its ``inspect.iscoroutinefunction`` costs about 0.5 µs a call: 3 µs of a request with
    two before- and three after-request hooks. Functions the app held when ``create_app``
    finished are checked once there (``freeze_sync_functions``); anything else, e.g. a hook
    a test adds later, still goes through Flask's check.
    """

    _sync_functions: frozenset[Callable[..., Any]] = frozenset()

    def freeze_sync_functions(self) -> None:
        """Remember which of the registered functions are plain (not ``async``) functions."""
        self._sync_functions = frozenset(
            func for func in self._registered_functions() if not inspect.iscoroutinefunction(func)
        )

    def _registered_functions(self) -> Iterator[Callable[..., Any]]:
        yield from self.view_functions.values()
        for registry in (
            self.before_request_funcs,
            self.after_request_funcs,
            self.teardown_request_funcs,
        ):
            yield from chain.from_iterable(registry.values())
        yield from self.teardown_appcontext_funcs
        for by_code in self.error_handler_spec.values():
            for handlers in by_code.values():
                yield from handlers.values()

    def make_default_options_response(self) -> Response:
        """``OPTIONS`` on any route: 204 with ``Allow`` (sorted, as on a 405) and no body.

        Flask's own answer is a 200 with an empty ``text/html`` body, which describes nothing;
        RFC 9110 lets OPTIONS answer with only the header, and 204 says there is no body.
        """
        allowed = super().make_default_options_response().headers.get("Allow", "")
        response = Response(status=204)
        # Without a body there is no media type (werkzeug would default to text/html).
        del response.headers["Content-Type"]
        response.headers["Allow"] = ", ".join(sorted(m.strip() for m in allowed.split(",")))
        return response

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` itself when it was registered as a plain function, else Flask's answer."""
        if func in self._sync_functions:
            return func
        return super().ensure_sync(func)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` keys that name a setting (``rules_dir``, ``max_body_bytes``,
    ...) override the environment; any other key goes to ``app.config`` (e.g. ``TESTING``).

    Raises ``popcheck.engine.RuleError`` (naming file and rule) when the ruleset is broken,
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
    app = PopcheckFlask(__name__, static_folder=None)
    app.config.update(flask_config)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Keep the order the pipeline builds (id, ruleset, urgency, ...): it is how people read it.
    app.json.sort_keys = False  # type: ignore[attr-defined]

    assessor = load_assessor(settings.rules_dir)
    intake = build_intake_form(
        settings.fhir_base, assessor.ruleset.version, question_entries(assessor.ruleset.catalog)
    )
    app.extensions["popcheck"] = ServiceState(settings=settings, assessor=assessor, intake=intake)

    register_observability(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_blueprints(app)
    app.freeze_sync_functions()
    return app
