"""Settings: defaults, then the environment, then the mapping given to ``create_app``.

Nothing here runs at import time; ``load_settings`` is called by the factory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_RULES_DIR = Path(__file__).resolve().parent / "rules"


class ConfigError(ValueError):
    """A setting has a value the service cannot run with; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the app can be configured with; see docs/operations.md, Settings."""

    rules_dir: Path = DEFAULT_RULES_DIR
    max_body_bytes: int = 65536
    api_keys: tuple[str, ...] = field(default=())
    log_level: str = "INFO"
    drain_seconds: float = 5.0
    #: Canonical base of popcheck's FHIR resources (the Questionnaire's ``url``, code systems).
    fhir_base: str = "https://popcheck.example/fhir"
    #: CDS Hooks: a JWKS file of the keys CDS clients sign with; ``None`` leaves JWTs off.
    cds_jwks_file: Path | None = None
    #: CDS Hooks: the ``iss`` values accepted (required with ``cds_jwks_file``).
    cds_issuers: tuple[str, ...] = field(default=())
    #: CDS Hooks: the ``aud`` expected; by default the URL the service was called at.
    cds_audience: str | None = None


# environment variable -> (settings field, parser)
_ENV: dict[str, str] = {
    "POPCHECK_RULES_DIR": "rules_dir",
    "POPCHECK_MAX_BODY_BYTES": "max_body_bytes",
    "POPCHECK_API_KEYS": "api_keys",
    "POPCHECK_LOG_LEVEL": "log_level",
    "POPCHECK_DRAIN_SECONDS": "drain_seconds",
    "POPCHECK_FHIR_BASE": "fhir_base",
    "POPCHECK_CDS_JWKS_FILE": "cds_jwks_file",
    "POPCHECK_CDS_ISSUERS": "cds_issuers",
    "POPCHECK_CDS_AUDIENCE": "cds_audience",
}


def _looks_like_path(raw: str) -> bool:
    return raw.startswith(("/", "./", "../", "~"))


def _parse_api_keys(raw: str) -> tuple[str, ...]:
    """Comma-separated keys, or a path to a file with one key per line (``#`` comments).

    A value that names a file must name one that exists and holds at least one key: a
    mistyped secret mount would otherwise become the only valid key (the path itself), or
    leave the service open.
    """
    raw = raw.strip()
    if not raw:
        return ()
    candidate = Path(raw).expanduser()
    if "," not in raw and (candidate.is_file() or _looks_like_path(raw)):
        if not candidate.is_file():
            raise ValueError(f"key file {raw} does not exist")
        lines = candidate.read_text(encoding="utf-8").splitlines()
        stripped = (line.strip() for line in lines)
        keys = tuple(line for line in stripped if line and not line.startswith("#"))
        if not keys:
            raise ValueError(f"key file {raw} holds no key")
        return keys
    return tuple(key.strip() for key in raw.split(",") if key.strip())


def _absolute_url(value: Any) -> str:
    """An ``http(s)`` URL without a trailing slash (a canonical base, an audience)."""
    text = str(value).strip().rstrip("/")
    scheme, _, rest = text.partition("://")
    if scheme not in ("http", "https") or not rest or any(c.isspace() for c in text):
        raise ValueError("must be an absolute http(s) URL")
    return text


def _coerce(name: str, value: Any) -> Any:
    try:
        if name == "rules_dir":
            return Path(value)
        if name == "max_body_bytes":
            number = int(value)
            if number < 1:
                raise ValueError("must be a positive number of bytes")
            return number
        if name == "drain_seconds":
            seconds = float(value)
            if seconds < 0:
                raise ValueError("must not be negative")
            return seconds
        if name == "api_keys":
            if isinstance(value, str):
                return _parse_api_keys(value)
            return tuple(str(key) for key in value)
        if name == "fhir_base":
            return _absolute_url(value)
        if name == "cds_jwks_file":
            if value is None or value == "":
                return None
            path = Path(value).expanduser()
            if not path.is_file():
                raise ValueError(f"JWKS file {value} does not exist")
            return path
        if name == "cds_issuers":
            if isinstance(value, str):
                return tuple(issuer.strip() for issuer in value.split(",") if issuer.strip())
            return tuple(str(issuer) for issuer in value)
        if name == "cds_audience":
            return None if value is None or value == "" else _absolute_url(value)
        if name == "log_level":
            level = str(value).upper()
            if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
                raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
            return level
    except (TypeError, ValueError, OSError) as exc:
        raise ConfigError(f"{name}: {exc}") from exc
    raise ConfigError(f"unknown setting {name!r}")


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then ``POPCHECK_*`` environment variables, then ``overrides`` (by field name).

    Raises ``ConfigError`` naming the setting when a value cannot be used.
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    values: dict[str, Any] = {}
    for var, name in _ENV.items():
        if var in env:
            try:
                values[name] = _coerce(name, env[var])
            except ConfigError as exc:
                # Name the variable the operator set, not the internal field.
                raise ConfigError(f"{var}: {str(exc).split(': ', 1)[1]}") from exc
    known = {f.name for f in fields(Settings)}
    for name, value in (overrides or {}).items():
        key = name.lower()
        if key not in known:
            raise ConfigError(f"unknown setting {name!r}")
        values[key] = _coerce(key, value)
    settings = replace(settings, **values)
    if settings.cds_jwks_file is not None and not settings.cds_issuers:
        raise ConfigError("cds_issuers: name the accepted issuers when a JWKS file is set")
    return settings
