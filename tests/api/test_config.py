"""Settings from the environment: defaults, parsing, and refusing values that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from popcheck.config import DEFAULT_RULES_DIR, ConfigError, Settings, load_settings


def test_defaults() -> None:
    assert load_settings(environ={}) == Settings(
        rules_dir=DEFAULT_RULES_DIR,
        max_body_bytes=65536,
        api_keys=(),
        log_level="INFO",
        drain_seconds=5.0,
    )


def test_environment_then_overrides() -> None:
    environ = {
        "POPCHECK_MAX_BODY_BYTES": "1024",
        "POPCHECK_API_KEYS": " a , b,,",
        "POPCHECK_LOG_LEVEL": "debug",
        "POPCHECK_DRAIN_SECONDS": "0.5",
        "POPCHECK_RULES_DIR": "/srv/rules",
    }
    settings = load_settings(environ=environ)
    assert settings == Settings(
        rules_dir=Path("/srv/rules"),
        max_body_bytes=1024,
        api_keys=("a", "b"),
        log_level="DEBUG",
        drain_seconds=0.5,
    )
    assert load_settings({"max_body_bytes": 10}, environ=environ).max_body_bytes == 10


def test_key_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# rotated 2026-11\nfirst\n  second  \n   # old: third\n\n", encoding="utf-8")
    assert load_settings(environ={"POPCHECK_API_KEYS": str(keys)}).api_keys == (
        "first",
        "second",
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("POPCHECK_API_KEYS", "/run/secrets/missing", "POPCHECK_API_KEYS: key file"),
        ("POPCHECK_API_KEYS", "./missing-keys", "does not exist"),
        ("POPCHECK_MAX_BODY_BYTES", "64k", "POPCHECK_MAX_BODY_BYTES"),
        ("POPCHECK_MAX_BODY_BYTES", "-1", "positive"),
        ("POPCHECK_LOG_LEVEL", "chatty", "POPCHECK_LOG_LEVEL"),
        ("POPCHECK_DRAIN_SECONDS", "soon", "POPCHECK_DRAIN_SECONDS"),
    ],
)
def test_unusable_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={variable: value})


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    # An operator who points at a key file means to require keys; an empty one must not
    # leave the service open.
    keys = tmp_path / "keys"
    keys.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds no key"):
        load_settings(environ={"POPCHECK_API_KEYS": str(keys)})


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"max_body": 1}, environ={})
