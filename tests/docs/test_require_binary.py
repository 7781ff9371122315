"""``tests.support.binaries.require_binary``: skip locally, fail under CI, never both."""

from __future__ import annotations

import pytest

from tests.support.binaries import require_binary

MISSING = "popcheck-no-such-program"


def test_found_program_returns_its_path() -> None:
    assert require_binary("bash").endswith("/bash")


def test_missing_program_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium-driver"):
        require_binary(MISSING, package="chromium-driver")


def test_missing_program_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        require_binary(MISSING)
