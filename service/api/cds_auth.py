"""CDS Hooks 2.0 client authentication: the client's JWT (``Authorization: Bearer <jwt>``).

Off unless the operator sets ``POPCHECK_CDS_JWKS_FILE`` (the public keys CDS clients sign
with, as a JWKS) and ``POPCHECK_CDS_ISSUERS`` (the ``iss`` values accepted). Then every call
to the CDS service and its feedback endpoint needs a JWT that:

- is signed with an asymmetric algorithm (RS/PS/ES 256-512; CDS Hooks names ES384 and
  RS384): ``alg: none`` and HMAC (``HS*``) are refused before any key is looked at;
- verifies with the JWKS key its ``kid`` names (or the only key, when there is one);
- has ``iss`` on the allow-list, ``aud`` equal to the URL called (``POPCHECK_CDS_AUDIENCE``
  as the public base URL when the service is behind a proxy), and ``exp``, ``iat`` and
  ``jti``; a minute of clock skew is allowed.

Anything else is 401 problem+json with a Bearer challenge. Tokens are never logged. With JWTs
off, the CDS endpoints follow the API keys like ``/assess`` (``POPCHECK_API_KEYS``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import jwt
from flask import request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from popcheck.config import ConfigError, Settings

__all__ = ["ALGORITHMS", "ClientVerifier", "load_verifier"]

ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
_LEEWAY_SECONDS: Final = 60
_REQUIRED: Final = ["iss", "aud", "exp", "iat", "jti"]


def _unauthorized(description: str, error: str | None = "invalid_token") -> Unauthorized:
    parameters: dict[str, str | None] = {"realm": "popcheck-cds"}
    if error is not None:
        parameters["error"] = error
    return Unauthorized(description, www_authenticate=WWWAuthenticate("Bearer", parameters))


class ClientVerifier:
    """Checks a CDS client's JWT against the configured keys and issuers."""

    def __init__(
        self, keys: Mapping[str | None, Any], issuers: tuple[str, ...], audience: str | None
    ) -> None:
        self.keys = dict(keys)
        self.issuers = frozenset(issuers)
        self.audience = audience

    def _key(self, header: Mapping[str, Any]) -> Any:
        kid = header.get("kid")
        if isinstance(kid, str) and kid in self.keys:
            return self.keys[kid]
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        raise _unauthorized("The token's key (kid) is not one this service trusts.")

    def verify(self) -> dict[str, Any]:
        """The verified claims of the current request's token; 401 otherwise."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("This endpoint needs 'Authorization: Bearer <JWT>'.", None)
        try:
            unverified = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _unauthorized("The bearer token is not a JWT.") from None
        algorithm = unverified.get("alg")
        if algorithm not in ALGORITHMS:
            raise _unauthorized("The token's algorithm is not accepted (none and HS* never are).")
        key = self._key(unverified)
        audience = self.audience + request.path if self.audience else request.base_url
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=audience,
                issuer=self.issuers,
                leeway=_LEEWAY_SECONDS,
                options={"require": _REQUIRED},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _unauthorized("The token is not valid for this service.") from None
        return claims


def load_verifier(settings: Settings) -> ClientVerifier | None:
    """The verifier the settings ask for, or ``None`` when JWTs are off.

    Raises:
        ConfigError: the JWKS file is unreadable or holds no usable public key.
    """
    path: Path | None = settings.cds_jwks_file
    if path is None:
        return None
    try:
        jwks = jwt.PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ConfigError(f"cds_jwks_file: {path}: {exc}") from exc
    keys: dict[str | None, Any] = {}
    for jwk in jwks.keys:
        if jwk.key_type not in ("RSA", "EC"):
            continue  # symmetric (oct) or other keys are never accepted
        keys[jwk.key_id] = jwk.key
    if not keys:
        raise ConfigError(f"cds_jwks_file: {path}: no RSA or EC public key")
    return ClientVerifier(keys, settings.cds_issuers, settings.cds_audience)
