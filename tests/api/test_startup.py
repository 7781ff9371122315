"""``create_app`` refuses to start with a broken ruleset or bad settings, and says why."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from popcheck.app import create_app
from popcheck.config import DEFAULT_RULES_DIR, ConfigError
from popcheck.engine import RuleError


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped rules that a test may break."""
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _syntax_error(table: Path) -> None:
    table.write_text(table.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")


def _unknown_input(table: Path) -> None:
    text = table.read_text(encoding="utf-8")
    table.write_text(text.replace("pain.level", "pain.levle", 1), encoding="utf-8")


def _unknown_hit_policy(table: Path) -> None:
    text = table.read_text(encoding="utf-8")
    table.write_text(
        text.replace("hit_policy: PRIORITY", "hit_policy: SOMETIMES"), encoding="utf-8"
    )


@pytest.mark.parametrize(
    "breakage",
    [_syntax_error, _unknown_input, _unknown_hit_policy],
    ids=["yaml-syntax", "unknown-input", "unknown-hit-policy"],
)
def test_broken_table_stops_create_app_naming_the_file(
    rules_copy: Path, breakage: Callable[[Path], None]
) -> None:
    table = rules_copy / "tables" / "urgency.yaml"
    breakage(table)
    with pytest.raises(RuleError) as caught:
        create_app({"TESTING": True, "rules_dir": rules_copy})
    assert "urgency.yaml" in str(caught.value)


def test_missing_rules_directory_stops_create_app(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as caught:
        create_app({"TESTING": True, "rules_dir": tmp_path / "nowhere"})
    assert "ruleset.yaml" in str(caught.value)


def test_the_intact_copy_starts(rules_copy: Path) -> None:
    # The breakage, not the copying, is what the tests above detect.
    client = create_app({"TESTING": True, "rules_dir": rules_copy}).test_client()
    assert client.get("/readyz").status_code == 200


def test_rules_dir_from_the_environment(rules_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unknown_input(rules_copy / "tables" / "urgency.yaml")
    monkeypatch.setenv("POPCHECK_RULES_DIR", str(rules_copy))
    with pytest.raises(RuleError, match="urgency.yaml"):
        create_app({"TESTING": True})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POPCHECK_MAX_BODY_BYTES", "lots"),
        ("POPCHECK_MAX_BODY_BYTES", "0"),
        ("POPCHECK_LOG_LEVEL", "LOUD"),
        ("POPCHECK_DRAIN_SECONDS", "-1"),
    ],
)
def test_bad_settings_stop_create_app(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError):
        create_app({"TESTING": True})


def test_body_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPCHECK_MAX_BODY_BYTES", "16")
    client = create_app({"TESTING": True}).test_client()
    assert client.post("/assess", json={"age": 40, "onset": "sudden"}).status_code == 413
    assert client.post("/assess", json={"age": 40}).status_code == 200


@pytest.mark.parametrize("key", ["max_body", "Rules_Directory", "testing"])
def test_mistyped_setting_stops_create_app(key: str) -> None:
    # A lower-case key that names no setting is a typo, not a Flask option: refuse it
    # rather than let it vanish into app.config.
    with pytest.raises(ConfigError, match=key):
        create_app({"TESTING": True, key: 1})
