"""``GET /openapi.yaml``: the contract, as shipped.

The root ``openapi.yaml`` is the file people edit; the package ships a byte-identical copy
(``service/api/openapi.yaml``, package data) so an installed service serves its own spec.
``tests/api/test_spec.py`` fails when the two differ.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response

YAML_MEDIA_TYPE = "application/yaml"  # RFC 9512


def load_spec() -> bytes:
    """The packaged ``openapi.yaml``."""
    return resources.files("service.api").joinpath("openapi.yaml").read_bytes()


def create_blueprint() -> Blueprint:
    """A blueprint serving the spec, read once here (at ``create_app``), not per request."""
    spec = load_spec()
    bp = Blueprint("spec", __name__)

    @bp.get("/openapi.yaml")
    def openapi_yaml() -> Response:
        """The OpenAPI 3.1 document."""
        return Response(spec, mimetype=YAML_MEDIA_TYPE)

    return bp
