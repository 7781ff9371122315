"""Interactive API documentation: ``GET /docs`` (Swagger UI) and ``GET /`` (redirects there).

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package and are served by the app
itself, so the page works on a machine with no internet access. A strict
``Content-Security-Policy`` keeps it that way: the browser may only talk to this origin, so a
stray CDN link or the public spec validator would fail loudly in the browser test instead of
quietly phoning home.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Response, redirect, request, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("docs", __name__)

# The package exposes its vendored directory as a (concrete) path; keep only what the page
# loads, so the app does not also publish source maps and unused bundles.
SWAGGER_UI_DIR = Path(str(swagger_ui_path))
SWAGGER_UI_ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}
)

# Swagger UI styles elements inline and shows SVG icons as data: URLs; nothing else is allowed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>popcheck API</title>
    <link rel="stylesheet" href="{css}">
    <link rel="icon" type="image/png" sizes="32x32" href="{icon32}">
    <link rel="icon" type="image/png" sizes="16x16" href="{icon16}">
  </head>
  <body>
    <noscript>This page needs JavaScript. The raw specification is at
      <a href="{spec}">{spec}</a>.</noscript>
    <div id="swagger-ui" data-spec-url="{spec}"></div>
    <script src="{bundle}"></script>
    <script src="{init}"></script>
  </body>
</html>
"""

# A separate file rather than an inline script, so the policy needs no 'unsafe-inline' for
# scripts. validatorUrl: null stops Swagger UI sending the spec to its public validator.
_INITIALIZER = """window.addEventListener("load", function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    validatorUrl: null
  });
});
"""


def _asset_url(name: str) -> str:
    return url_for("docs.asset", filename=name)


@bp.get("/")
def index() -> BaseResponse:
    """Send people who open the service in a browser to the interactive docs."""
    return redirect(url_for("docs.page"), code=302)


@bp.get("/docs/")
def page_with_slash() -> BaseResponse:
    """``/docs/`` is a common typo for ``/docs``; redirect instead of answering 404."""
    return redirect(url_for("docs.page"), code=301)


@bp.get("/docs")
def page() -> Response:
    """The Swagger UI page, rendering the served ``/openapi.yaml``."""
    html = _PAGE.format(
        css=escape(_asset_url("swagger-ui.css")),
        icon32=escape(_asset_url("favicon-32x32.png")),
        icon16=escape(_asset_url("favicon-16x16.png")),
        bundle=escape(_asset_url("swagger-ui-bundle.js")),
        init=escape(url_for("docs.initializer")),
        # Relative to the mount point, so the page also works behind a path prefix.
        spec=escape(f"{request.script_root}/openapi.yaml"),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.get("/docs/swagger-initializer.js")
def initializer() -> Response:
    """Start Swagger UI with popcheck's settings."""
    return Response(_INITIALIZER, mimetype="text/javascript")


@bp.get("/docs/<path:filename>")
def asset(filename: str) -> Response:
    """One of Swagger UI's static files, from the installed package."""
    if filename not in SWAGGER_UI_ASSETS:
        raise NotFound()
    return send_from_directory(SWAGGER_UI_DIR, filename)
